"""The behaviour every provider shares, checked for each against its protocol-exact fake server:
streaming, retries before the first token only, typed errors, and cancellation closing the HTTP stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from neura.errors import LLMError, LLMUnavailableError
from neura.llm import BaseLLM, ChatMessage, RetryPolicy, closing_stream
from neura.llm.gemini import GeminiLLM
from neura.llm.openai_compat import OpenAICompatLLM
from tests.fakes._server import FakeServer
from tests.fakes.gemini_server import FakeGeminiServer
from tests.fakes.openai_server import FakeOpenAIServer

HELLO = [ChatMessage("system", "You are terse."), ChatMessage("user", "Say hello.")]
FAST_RETRY = RetryPolicy(max_retries=2, base_delay_s=0.01)


@dataclass
class Case:
    """A provider, the fake it talks to, and a way to build more of it (other timeouts, a dead port)."""

    server: FakeServer
    make: Callable[..., BaseLLM]
    built: list[BaseLLM]

    def llm(self, **overrides: Any) -> BaseLLM:
        llm = self.make(**overrides)
        self.built.append(llm)
        return llm


@pytest.fixture(params=["lmstudio", "gemini"])
async def case(
    request: pytest.FixtureRequest,
    openai_server: FakeOpenAIServer,
    gemini_server: FakeGeminiServer,
    closed_port_url: str,
) -> AsyncIterator[Case]:
    def make_lmstudio(*, dead: bool = False, timeout_s: float = 2.0) -> BaseLLM:
        url = closed_port_url if dead else openai_server.base_url
        return OpenAICompatLLM(base_url=url, model=openai_server.model, timeout_s=timeout_s, retry=FAST_RETRY)

    def make_gemini(*, dead: bool = False, timeout_s: float = 2.0) -> BaseLLM:
        url = closed_port_url.removesuffix("/v1") if dead else gemini_server.base_url
        return GeminiLLM(
            api_key=gemini_server.api_key,
            model=gemini_server.model,
            base_url=url,
            timeout_s=timeout_s,
            retry=FAST_RETRY,
        )

    if request.param == "lmstudio":
        case = Case(openai_server, make_lmstudio, [])
    else:
        case = Case(gemini_server, make_gemini, [])
    yield case
    for llm in case.built:
        await llm.aclose()


async def test_pieces_arrive_as_the_server_sends_them(case: Case) -> None:
    reply = "One two three four five six."
    case.server.behaviour.replies = [reply]
    case.server.behaviour.ttft_ms, case.server.behaviour.tokens_per_s = 20, 10  # one word every 100 ms
    start = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    async for piece in case.llm().stream_chat(HELLO):
        arrivals.append((time.monotonic() - start, piece))

    assert "".join(piece for _, piece in arrivals) == reply
    assert len(arrivals) == 6
    first_s, last_s = arrivals[0][0], arrivals[-1][0]
    assert last_s - first_s >= 0.3  # 5 gaps of 100 ms: streamed as sent, not buffered until the end


async def test_complete_joins_the_stream(case: Case) -> None:
    case.server.behaviour.replies = ["Hello, world!"]
    assert await case.llm().complete(HELLO) == "Hello, world!"


async def test_a_closed_port_is_unavailable_and_the_error_names_the_url_and_the_fixes(case: Case) -> None:
    llm = case.llm(dead=True)
    with pytest.raises(LLMUnavailableError) as caught:
        await llm.complete(HELLO)
    assert llm.endpoint.split("/v1")[0] in str(caught.value)
    assert "start LM Studio" in str(caught.value) and caught.value.fields == {"script": None}


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_a_retryable_failure_before_the_first_token_is_retried(case: Case, status: int) -> None:
    case.server.behaviour.fail_with = [status]
    case.server.behaviour.replies = ["Recovered."]
    assert await case.llm().complete(HELLO) == "Recovered."
    assert len(case.server.requests) == 2


async def test_retries_stop_after_the_policy_and_the_error_stays_retryable(case: Case) -> None:
    case.server.behaviour.fail_with = [503, 503, 503, 503]
    with pytest.raises(LLMError) as caught:
        await case.llm().complete(HELLO)
    assert caught.value.retryable and not isinstance(caught.value, LLMUnavailableError)
    assert len(case.server.requests) == 3  # the first try and FAST_RETRY's two retries


async def test_a_400_is_not_retried(case: Case) -> None:
    case.server.behaviour.fail_with = [400]
    with pytest.raises(LLMError) as caught:
        await case.llm().complete(HELLO)
    assert not caught.value.retryable
    assert "400" in str(caught.value)
    assert len(case.server.requests) == 1


async def test_a_server_that_never_answers_times_out_as_unavailable(case: Case) -> None:
    case.server.behaviour.hang = "before_headers"
    start = time.monotonic()
    with pytest.raises(LLMUnavailableError, match=r"did not answer within 0\.5 s"):
        await case.llm(timeout_s=0.5).complete(HELLO)
    assert time.monotonic() - start < 3.0  # the 0.5 s timeout, not a default of minutes
    assert len(case.server.requests) == 1  # timeouts are not retried: a fallback moves on instead


async def test_an_error_after_the_first_token_propagates_without_retry(case: Case) -> None:
    case.server.behaviour.replies = ["First words then silence."]
    case.server.behaviour.hang = "after_first_token"
    received: list[str] = []
    with pytest.raises(LLMError):
        async for piece in case.llm(timeout_s=0.5).stream_chat(HELLO):
            received.append(piece)
    assert received == ["First"]
    assert len(case.server.requests) == 1


async def test_an_answer_that_is_not_the_protocol_is_an_llm_error(case: Case) -> None:
    case.server.behaviour.garbage = True
    with pytest.raises(LLMError) as caught:
        await case.llm().complete(HELLO)
    assert not isinstance(caught.value, LLMUnavailableError)


async def test_cancelling_the_consumer_closes_the_http_stream_at_once(case: Case) -> None:
    case.server.behaviour.replies = ["a slow answer that would take many seconds to finish"]
    case.server.behaviour.tokens_per_s = 2
    first_piece = asyncio.Event()

    async def consume() -> None:
        async for _ in case.llm().stream_chat(HELLO):
            first_piece.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_piece.wait(), timeout=2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(case.server.wait_for_disconnect, 1.0)  # long before the answer's end


async def test_cancelling_while_waiting_for_the_first_token_closes_the_http_stream(case: Case) -> None:
    case.server.behaviour.hang = "before_headers"
    task = asyncio.create_task(case.llm().complete(HELLO))
    while not case.server.requests:  # the request is out; its answer never comes
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(case.server.wait_for_disconnect, 1.0)


async def test_stopping_early_inside_closing_stream_closes_the_http_stream(case: Case) -> None:
    case.server.behaviour.replies = ["one two three four five six seven eight nine ten"]
    case.server.behaviour.tokens_per_s = 10
    async with closing_stream(case.llm().stream_chat(HELLO)) as pieces:
        async for piece in pieces:
            assert piece == "one"
            break
    assert await asyncio.to_thread(case.server.wait_for_disconnect, 1.0)
