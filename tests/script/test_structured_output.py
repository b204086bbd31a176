"""Structured output over the real wire protocols: the script agent sends its JSON schema where the server
takes one (OpenAI-compatible ``response_format: json_schema``, Gemini's ``responseJsonSchema``), falls
back to plainer requests where it is refused (and remembers), and uses prose where a model ignores it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from neura.llm import RetryPolicy
from neura.llm.gemini import GeminiLLM
from neura.llm.openai_compat import OpenAICompatLLM
from neura.script import ScriptAgent, prompt_schema
from neura.script.agent import PROSE_WARNING
from tests.fakes.gemini_server import FakeGeminiServer
from tests.fakes.openai_server import FakeOpenAIServer

WORDS = ["Light", "from", "the", "sun", "scatters", "off", "tiny", "molecules", "of", "air"]


def narration(words: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(words)) + "."


def script_json(words: int = 60) -> str:
    half = words // 2
    scenes = [
        {"narration": narration(half), "caption": "One"},
        {"narration": narration(words - half), "caption": "Two"},
    ]
    return json.dumps({"title": "Blue skies", "scenes": scenes})


def format_of(body: dict[str, object]) -> str | None:
    response_format = body.get("response_format")
    return response_format.get("type") if isinstance(response_format, dict) else None  # type: ignore[return-value]


@pytest.fixture
async def lmstudio(openai_server: FakeOpenAIServer) -> AsyncIterator[OpenAICompatLLM]:
    openai_server.behaviour.tokens_per_s = 0
    llm = OpenAICompatLLM(base_url=openai_server.base_url, model=openai_server.model, retry=RetryPolicy(max_retries=0))
    yield llm
    await llm.aclose()


async def test_the_script_schema_is_sent_as_json_schema_response_format(
    lmstudio: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    openai_server.accepted_response_formats = {"json_schema", "text"}  # what LM Studio takes
    openai_server.behaviour.replies = [script_json()]
    result = await ScriptAgent(lmstudio, words_per_second=2.5).write("Why is the sky blue?", 25)

    assert result.script.title == "Blue skies" and result.warnings == ()
    (body,) = openai_server.chat_requests
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "script", "schema": prompt_schema()},
    }
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["title", "scenes"] and "Scene" in schema["$defs"]


async def test_a_server_refusing_json_schema_gets_json_object_and_it_is_remembered(
    lmstudio: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    openai_server.accepted_response_formats = {"json_object", "text"}
    openai_server.behaviour.replies = [script_json()]
    agent = ScriptAgent(lmstudio, words_per_second=2.5)
    await agent.write("Why is the sky blue?", 25)
    await agent.write("Why is the sea blue?", 25)
    assert [format_of(b) for b in openai_server.chat_requests] == ["json_schema", "json_object", "json_object"]
    assert lmstudio.refused_formats == {"json_schema"}


async def test_a_server_without_structured_output_gets_plain_requests_and_it_is_remembered(
    lmstudio: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    openai_server.accepted_response_formats = set()  # every response_format: HTTP 400
    openai_server.behaviour.replies = [script_json()]
    agent = ScriptAgent(lmstudio, words_per_second=2.5)
    first = await agent.write("Why is the sky blue?", 25)
    await agent.write("Why is the sea blue?", 25)

    assert first.script.title == "Blue skies"
    assert [format_of(b) for b in openai_server.chat_requests] == ["json_schema", "json_object", None, None]
    plain = openai_server.chat_requests[-1]
    assert '"narration"' in plain["messages"][0]["content"]  # the schema still travels in the prompt


async def test_a_malformed_schema_is_refused_by_the_fake_as_by_lm_studio(
    lmstudio: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    """The fake checks what it receives: a json_schema format needs a name and a schema object."""
    bad = {"model": openai_server.model, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient() as http:
        for response_format in (
            {"type": "json_schema", "json_schema": {"name": "script"}},
            {"type": "json_schema", "json_schema": {"name": "a script", "schema": {}}},
            {"type": "yaml"},
        ):
            answer = await http.post(
                f"{openai_server.base_url}/chat/completions", json=bad | {"response_format": response_format}
            )
            assert answer.status_code == 400 and "response_format" in answer.text


async def test_a_model_that_answers_in_prose_still_makes_the_video(
    lmstudio: OpenAICompatLLM, openai_server: FakeOpenAIServer
) -> None:
    openai_server.behaviour.replies = [f"Blue Skies\n{narration(30)}\n\n{narration(31)}"]
    result = await ScriptAgent(lmstudio, words_per_second=2.5).write("Why is the sky blue?", 25)
    assert result.warnings == (PROSE_WARNING,) and result.attempts == 1
    assert result.script.title == "Blue Skies" and len(result.script.scenes) == 2
    assert format_of(openai_server.chat_requests[0]) == "json_schema"  # asked for JSON; got prose; used it


async def test_gemini_gets_the_schema_as_response_json_schema(gemini_server: FakeGeminiServer) -> None:
    gemini_server.behaviour.replies = [script_json()]
    gemini_server.behaviour.tokens_per_s = 0
    llm = GeminiLLM(api_key=gemini_server.api_key, model=gemini_server.model, base_url=gemini_server.base_url)
    try:
        result = await ScriptAgent(llm, words_per_second=2.5).write("Why is the sky blue?", 25)
    finally:
        await llm.aclose()
    assert result.script.title == "Blue skies"
    config = gemini_server.generate_requests[0]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == prompt_schema()


async def test_the_gemini_fake_refuses_a_schema_without_the_json_mime_type(gemini_server: FakeGeminiServer) -> None:
    url = f"{gemini_server.base_url}/v1beta/models/{gemini_server.model}:generateContent"
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"responseJsonSchema": {"type": "object"}},
    }
    async with httpx.AsyncClient() as http:
        answer = await http.post(url, json=body, headers={"x-goog-api-key": gemini_server.api_key})
    assert answer.status_code == 400 and "response_mime_type" in answer.text
