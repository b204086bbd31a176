"""LM Studio (and any OpenAI-compatible server) through the openai SDK, against the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from neura.config import Settings
from neura.errors import LLMError, LLMUnavailableError
from neura.llm import ChatMessage, RetryPolicy, create_llm
from neura.llm.openai_compat import OpenAICompatLLM
from tests.fakes.openai_server import FakeOpenAIServer

HELLO = [ChatMessage("system", "You are terse."), ChatMessage("user", "Say hello.")]


@pytest.fixture
async def llm(openai_server: FakeOpenAIServer) -> AsyncIterator[OpenAICompatLLM]:
    llm = OpenAICompatLLM(
        base_url=openai_server.base_url, model=openai_server.model, retry=RetryPolicy(base_delay_s=0.01)
    )
    yield llm
    await llm.aclose()


async def test_the_request_is_a_streaming_chat_completion(
    llm: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    await llm.complete(HELLO, temperature=0.2, max_tokens=64)

    (body,) = openai_server.chat_requests
    assert body["model"] == "qwen/qwen3-vl-4b"
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say hello."},
    ]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.2 and body["max_tokens"] == 64
    assert "response_format" not in body
    assert openai_server.requests[0].headers["authorization"] == "Bearer lm-studio"


async def test_qwen3_think_blocks_never_reach_the_consumer(
    llm: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    openai_server.behaviour.replies = ["<think>\nThe user wants a greeting. Keep it short.\n</think>\n\nHello there!"]
    pieces = [piece async for piece in llm.stream_chat(HELLO)]
    assert "".join(pieces) == "Hello there!"
    assert not any("greeting" in piece or "think" in piece for piece in pieces)


async def test_json_mode_asks_for_a_json_object(llm: OpenAICompatLLM, openai_server: FakeOpenAIServer) -> None:
    openai_server.behaviour.replies = ['{"ok": true}']
    assert await llm.complete(HELLO, json_mode=True) == '{"ok": true}'
    assert openai_server.chat_requests[0]["response_format"] == {"type": "json_object"}


async def test_json_mode_on_lm_studio_falls_back_to_json_schema_and_remembers(
    llm: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    openai_server.accepted_response_formats = {"json_schema", "text"}  # what LM Studio takes
    openai_server.behaviour.replies = ['{"ok": true}']
    assert await llm.complete(HELLO, json_mode=True) == '{"ok": true}'
    assert await llm.complete(HELLO, json_mode=True) == '{"ok": true}'

    formats = [body["response_format"]["type"] for body in openai_server.chat_requests]
    assert formats == ["json_object", "json_schema", "json_schema"]


async def test_json_mode_on_a_server_without_response_format_sends_a_plain_request(
    llm: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    openai_server.accepted_response_formats = {"text"}
    openai_server.behaviour.replies = ['{"ok": true}']
    assert await llm.complete(HELLO, json_mode=True) == '{"ok": true}'
    assert [b.get("response_format", {}).get("type") for b in openai_server.chat_requests] == [
        "json_object",
        "json_schema",
        None,
    ]


async def test_a_401_is_unavailable_and_says_which_key_to_set(
    llm: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    openai_server.api_key = "sk-right"
    with pytest.raises(LLMUnavailableError) as caught:
        await llm.complete(HELLO)
    message = str(caught.value)
    assert openai_server.base_url in message and "401" in message
    assert "LMSTUDIO_API_KEY" in message and caught.value.fields == {"script": None} and "--" not in message
    assert len(openai_server.requests) == 1


async def test_the_configured_api_key_is_sent(openai_server: FakeOpenAIServer) -> None:
    openai_server.api_key = "sk-right"
    llm = OpenAICompatLLM(base_url=openai_server.base_url, model=openai_server.model, api_key="sk-right")
    assert await llm.complete(HELLO)
    await llm.aclose()


async def test_lm_studio_without_a_loaded_model_is_unavailable_with_the_fix(
    llm: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    openai_server.behaviour.fail_with = [404]
    openai_server.behaviour.fail_message = "No models loaded. Please load a model in the developer page."
    with pytest.raises(LLMUnavailableError, match="no model 'qwen/qwen3-vl-4b' loaded") as caught:
        await llm.complete(HELLO)
    assert "LMSTUDIO_MODEL" in str(caught.value)


async def test_another_4xx_is_a_plain_llm_error_with_the_servers_message(
    llm: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    openai_server.behaviour.fail_with = [422]
    openai_server.behaviour.fail_message = "temperature must be at most 2"
    with pytest.raises(LLMError, match="HTTP 422: temperature must be at most 2") as caught:
        await llm.complete(HELLO)
    assert not caught.value.retryable


async def test_usage_chunks_without_choices_are_skipped(llm: OpenAICompatLLM, openai_server: FakeOpenAIServer) -> None:
    openai_server.behaviour.replies = ["Just this."]
    assert await llm.complete(HELLO) == "Just this."  # the fake ends with a usage chunk whose choices are []


def test_create_llm_builds_lmstudio_from_settings(fake_llm_settings: Settings) -> None:
    llm = create_llm(fake_llm_settings, "lmstudio")
    assert isinstance(llm, OpenAICompatLLM)
    assert (llm.name, llm.model, llm.endpoint) == (
        "lmstudio",
        fake_llm_settings.lmstudio_model,
        fake_llm_settings.lmstudio_base_url,
    )
