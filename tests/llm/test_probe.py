"""Probing a provider: its models call (free), never a completion; short errors that name no address,
for the server that is down, silent, or refuses the credentials."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from neura.errors import LLMError, LLMUnavailableError
from neura.llm.base import BaseLLM
from neura.llm.gemini import GeminiLLM
from neura.llm.openai_compat import OpenAICompatLLM
from tests.fakes.gemini_server import FakeGeminiServer
from tests.fakes.openai_server import FakeOpenAIServer

TIMEOUT_S = 0.5


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that takes connections and never answers (the kernel accepts them into the backlog)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


async def probe(llm: BaseLLM) -> list[str]:
    try:
        answer = await llm.probe(TIMEOUT_S)
    finally:
        await llm.aclose()
    assert answer.latency_ms > 0
    return answer.models


async def test_an_openai_compatible_server_lists_its_models(openai_server: FakeOpenAIServer) -> None:
    openai_server.api_key = "secret"
    llm = OpenAICompatLLM(base_url=openai_server.base_url, model=openai_server.model, api_key="secret")
    assert await probe(llm) == [openai_server.model]
    assert [(r.method, r.path) for r in openai_server.requests] == [("GET", "/v1/models")]


async def test_an_openai_compatible_server_that_refuses_the_key(openai_server: FakeOpenAIServer) -> None:
    openai_server.api_key = "secret"
    llm = OpenAICompatLLM(base_url=openai_server.base_url, model=openai_server.model, api_key="wrong")
    with pytest.raises(LLMUnavailableError) as refused:
        await probe(llm)
    assert refused.value.message == "the server refused the credentials (HTTP 401)"
    assert refused.value.hint == "check LMSTUDIO_API_KEY"


async def test_an_openai_compatible_server_that_is_down_or_silent(closed_port_url: str, silent_url: str) -> None:
    with pytest.raises(LLMUnavailableError) as down:
        await probe(OpenAICompatLLM(base_url=closed_port_url, model="m"))
    assert down.value.message.startswith("cannot connect") and "127.0.0.1" not in down.value.message
    with pytest.raises(LLMUnavailableError) as silent:
        await probe(OpenAICompatLLM(base_url=f"{silent_url}/v1", model="m"))
    assert silent.value.message == f"no answer within {TIMEOUT_S:g} s"


def gemini(server: FakeGeminiServer, **changes: str) -> GeminiLLM:
    options = {"api_key": server.api_key, "model": server.model, "base_url": server.base_url, **changes}
    return GeminiLLM(**options)


async def test_gemini_gets_its_model(gemini_server: FakeGeminiServer) -> None:
    assert await probe(gemini(gemini_server)) == [gemini_server.model]
    (request,) = gemini_server.requests
    assert request.method == "GET" and request.path.endswith(f"/models/{gemini_server.model}")
    assert request.headers["x-goog-api-key"] == gemini_server.api_key


@pytest.mark.parametrize(
    ("changes", "error", "message", "hint"),
    [
        ({"api_key": ""}, LLMUnavailableError, "Gemini is not configured: GEMINI_API_KEY is empty", "GEMINI_API_KEY"),
        ({"api_key": "wrong"}, LLMUnavailableError, "Gemini refused the API key (HTTP 400)", "check GEMINI_API_KEY"),
        ({"model": "gemini-0"}, LLMError, "Gemini has no model 'gemini-0'", "check GEMINI_MODEL"),
    ],
)
async def test_gemini_misconfigured(
    gemini_server: FakeGeminiServer, changes: dict[str, str], error: type[LLMError], message: str, hint: str
) -> None:
    with pytest.raises(error) as refused:
        await probe(gemini(gemini_server, **changes))
    assert refused.value.message == message and hint in (refused.value.hint or "")


async def test_gemini_down_or_silent(gemini_server: FakeGeminiServer, closed_port_url: str, silent_url: str) -> None:
    with pytest.raises(LLMUnavailableError) as down:
        await probe(gemini(gemini_server, base_url=closed_port_url.removesuffix("/v1")))
    assert down.value.message.startswith("cannot connect") and "127.0.0.1" not in down.value.message
    with pytest.raises(LLMUnavailableError) as silent:
        await probe(gemini(gemini_server, base_url=silent_url))
    assert silent.value.message == f"no answer within {TIMEOUT_S:g} s"
