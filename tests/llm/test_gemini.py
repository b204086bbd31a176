"""Gemini through google-genai, against the fake Gemini API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from neura.config import Settings
from neura.errors import LLMError, LLMUnavailableError
from neura.llm import ChatMessage, RetryPolicy, create_llm
from neura.llm.gemini import GeminiLLM
from tests.fakes.gemini_server import FakeGeminiServer

CONVERSATION = [
    ChatMessage("system", "You are terse."),
    ChatMessage("user", "Say hello."),
    ChatMessage("assistant", "Hello."),
    ChatMessage("user", "Again, louder."),
]


@pytest.fixture
async def llm(gemini_server: FakeGeminiServer) -> AsyncIterator[GeminiLLM]:
    llm = GeminiLLM(
        api_key=gemini_server.api_key,
        model=gemini_server.model,
        base_url=gemini_server.base_url,
        retry=RetryPolicy(base_delay_s=0.01),
    )
    yield llm
    await llm.aclose()


async def test_the_request_is_a_streamed_generate_content(llm: GeminiLLM, gemini_server: FakeGeminiServer) -> None:
    await llm.complete(CONVERSATION, temperature=0.2, max_tokens=64)

    (request,) = gemini_server.requests
    assert request.path == "/v1/models/gemini-2.5-flash:streamGenerateContent" and request.query == "alt=sse"
    assert request.headers["x-goog-api-key"] == gemini_server.api_key
    body = request.json
    assert body["systemInstruction"]["parts"] == [{"text": "You are terse."}]
    assert [(c["role"], c["parts"][0]["text"]) for c in body["contents"]] == [
        ("user", "Say hello."),
        ("model", "Hello."),
        ("user", "Again, louder."),
    ]
    assert body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 64}


async def test_json_mode_asks_for_application_json(llm: GeminiLLM, gemini_server: FakeGeminiServer) -> None:
    gemini_server.behaviour.replies = ['{"ok": true}']
    assert await llm.complete(CONVERSATION, json_mode=True) == '{"ok": true}'
    assert gemini_server.generate_requests[0]["generationConfig"]["responseMimeType"] == "application/json"


async def test_thought_parts_are_not_part_of_the_answer(llm: GeminiLLM, gemini_server: FakeGeminiServer) -> None:
    gemini_server.behaviour.thought = "**Planning** The user wants a louder hello."
    gemini_server.behaviour.replies = ["HELLO!"]
    assert [piece async for piece in llm.stream_chat(CONVERSATION)] == ["HELLO!"]


async def test_system_messages_alone_become_the_request(llm: GeminiLLM, gemini_server: FakeGeminiServer) -> None:
    await llm.complete([ChatMessage("system", "Introduce yourself.")])
    body = gemini_server.generate_requests[0]
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Introduce yourself."}]}]
    assert "systemInstruction" not in body


async def test_a_missing_api_key_is_unavailable_without_any_request(gemini_server: FakeGeminiServer) -> None:
    llm = GeminiLLM(api_key="", base_url=gemini_server.base_url)
    with pytest.raises(LLMUnavailableError, match="GEMINI_API_KEY is empty") as caught:
        await llm.complete(CONVERSATION)
    assert "aistudio.google.com" in str(caught.value) and caught.value.fields == {"script": None}
    assert gemini_server.requests == []


@pytest.mark.parametrize(
    ("api_key", "status"),
    [("wrong-key", "400 INVALID_ARGUMENT"), (" ", "")],
    ids=["wrong key", "blank key"],
)
async def test_a_refused_key_is_unavailable_and_not_retried(
    gemini_server: FakeGeminiServer, api_key: str, status: str
) -> None:
    llm = GeminiLLM(api_key=api_key, base_url=gemini_server.base_url, model=gemini_server.model)
    with pytest.raises(LLMUnavailableError) as caught:
        await llm.complete(CONVERSATION)
    assert status in str(caught.value) and "GEMINI_API_KEY" in str(caught.value)
    assert len(gemini_server.requests) == (1 if api_key.strip() else 0)
    await llm.aclose()


async def test_a_403_is_unavailable(llm: GeminiLLM, gemini_server: FakeGeminiServer) -> None:
    gemini_server.behaviour.fail_with = [403]
    with pytest.raises(LLMUnavailableError, match="403 PERMISSION_DENIED"):
        await llm.complete(CONVERSATION)


async def test_an_unknown_model_is_a_configuration_error(gemini_server: FakeGeminiServer) -> None:
    llm = GeminiLLM(api_key=gemini_server.api_key, base_url=gemini_server.base_url, model="gemini-0-nope")
    with pytest.raises(LLMError, match="no model 'gemini-0-nope'") as caught:
        await llm.complete(CONVERSATION)
    assert not caught.value.retryable and "GEMINI_MODEL" in str(caught.value)
    await llm.aclose()


async def test_googles_error_message_reaches_the_user(llm: GeminiLLM, gemini_server: FakeGeminiServer) -> None:
    gemini_server.behaviour.fail_with = [503, 503, 503]
    gemini_server.behaviour.fail_message = "The model is overloaded. Please try again later."
    with pytest.raises(LLMError, match="503 UNAVAILABLE: The model is overloaded") as caught:
        await llm.complete(CONVERSATION)
    assert caught.value.retryable


def test_create_llm_builds_gemini_from_settings(fake_llm_settings: Settings) -> None:
    llm = create_llm(fake_llm_settings, "gemini")
    assert isinstance(llm, GeminiLLM)
    assert (llm.name, llm.model, llm.endpoint) == ("gemini", "gemini-2.5-flash", fake_llm_settings.gemini_base_url)


def test_the_endpoint_shown_to_users_defaults_to_googles() -> None:
    assert GeminiLLM(api_key="k").endpoint == "https://generativelanguage.googleapis.com"
