"""The fallback chain and create_llm: production asks Gemini first and falls back to LM Studio."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from neura.config import Settings
from neura.errors import InputError, LLMError, LLMUnavailableError
from neura.llm import ChatMessage, FallbackLLM, LLMProvider, RetryPolicy, close_llm, create_llm
from neura.llm.gemini import GeminiLLM
from neura.llm.openai_compat import OpenAICompatLLM
from tests.fakes.gemini_server import FakeGeminiServer
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.scripted_llm import ScriptedLLM

HELLO = [ChatMessage("user", "Say hello.")]
FAST_RETRY = RetryPolicy(max_retries=1, base_delay_s=0.01)


def production(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"env": "production", **changes})


@pytest.fixture
async def chain(
    openai_server: FakeOpenAIServer, gemini_server: FakeGeminiServer
) -> AsyncIterator[tuple[FallbackLLM, GeminiLLM, OpenAICompatLLM]]:
    gemini = GeminiLLM(
        api_key=gemini_server.api_key, model=gemini_server.model, base_url=gemini_server.base_url, retry=FAST_RETRY
    )
    lmstudio = OpenAICompatLLM(base_url=openai_server.base_url, model=openai_server.model, retry=FAST_RETRY)
    llm = FallbackLLM([gemini, lmstudio])
    yield llm, gemini, lmstudio
    await llm.aclose()


async def test_the_first_provider_answers_when_it_can(
    chain: tuple[FallbackLLM, GeminiLLM, OpenAICompatLLM],
    gemini_server: FakeGeminiServer,
    openai_server: FakeOpenAIServer,
) -> None:
    llm, gemini, _ = chain
    gemini_server.behaviour.replies = ["from gemini"]
    assert await llm.complete(HELLO) == "from gemini"
    assert llm.last_provider is gemini and llm.model == "gemini-2.5-flash"
    assert openai_server.requests == []


async def test_gemini_down_means_lm_studio_answers(
    chain: tuple[FallbackLLM, GeminiLLM, OpenAICompatLLM],
    gemini_server: FakeGeminiServer,
    openai_server: FakeOpenAIServer,
) -> None:
    llm, _, lmstudio = chain
    gemini_server.behaviour.fail_with = [503, 503]  # the first try and its one retry
    openai_server.behaviour.replies = ["from lm studio"]
    assert await llm.complete(HELLO) == "from lm studio"
    assert llm.last_provider is lmstudio and llm.model == "qwen/qwen3-vl-4b"
    assert len(gemini_server.requests) == 2


async def test_without_a_gemini_key_lm_studio_answers(
    fake_llm_settings: Settings, gemini_server: FakeGeminiServer, openai_server: FakeOpenAIServer
) -> None:
    openai_server.behaviour.replies = ["from lm studio"]
    llm = create_llm(production(fake_llm_settings, gemini_api_key=""))
    assert await llm.complete(HELLO) == "from lm studio"
    assert gemini_server.requests == []
    await close_llm(llm)


async def test_both_down_is_one_error_naming_every_provider_and_url(
    fake_llm_settings: Settings, closed_port_url: str
) -> None:
    settings = production(fake_llm_settings, lmstudio_base_url=closed_port_url, gemini_api_key="")
    with pytest.raises(LLMUnavailableError) as caught:
        await create_llm(settings).complete(HELLO)
    message = str(caught.value)
    assert "gemini" in message and "GEMINI_API_KEY is empty" in message
    assert "lmstudio" in message and closed_port_url in message
    assert caught.value.hint == (
        "check GEMINI_API_KEY and GEMINI_MODEL, or start LM Studio and load a model (LMSTUDIO_BASE_URL, "
        "LMSTUDIO_MODEL), or give the script yourself"
    )
    assert caught.value.fields == {"script": None}


async def test_locally_a_gemini_key_makes_gemini_the_fallback_of_lm_studio(
    fake_llm_settings: Settings, closed_port_url: str, gemini_server: FakeGeminiServer
) -> None:
    """ENV=local with GEMINI_API_KEY set: LM Studio down, Gemini answers (no hint needed at all)."""
    local = fake_llm_settings.model_copy(update={"env": "local", "lmstudio_base_url": closed_port_url})
    assert local.llm_chain == ["lmstudio", "gemini"]
    assert local.model_copy(update={"gemini_api_key": ""}).llm_chain == ["lmstudio"]
    gemini_server.behaviour.replies = ["from gemini"]
    llm = create_llm(local)
    assert await llm.complete(HELLO) == "from gemini"
    await close_llm(llm)


async def test_when_every_provider_fails_no_hint_repeats_itself_or_asks_for_what_is_set(
    fake_llm_settings: Settings, closed_port_url: str, gemini_server: FakeGeminiServer
) -> None:
    local = fake_llm_settings.model_copy(update={"env": "local", "lmstudio_base_url": closed_port_url})
    gemini_server.behaviour.fail_with = [503] * 10
    llm = create_llm(local)
    with pytest.raises(LLMError) as caught:
        await llm.complete(HELLO)
    await close_llm(llm)
    hint = caught.value.hint or ""
    assert "set GEMINI_API_KEY" not in hint  # it is set: the hint says to check it instead
    clauses = [clause.strip() for clause in hint.split(", or ")]
    assert len(clauses) == len(set(clauses)) == 3, hint
    for word in ("GEMINI_API_KEY", "LM Studio", "script"):
        assert hint.count(word) == 1, hint


async def test_a_non_retryable_error_propagates_without_trying_the_next(
    chain: tuple[FallbackLLM, GeminiLLM, OpenAICompatLLM],
    gemini_server: FakeGeminiServer,
    openai_server: FakeOpenAIServer,
) -> None:
    llm, _, _ = chain
    gemini_server.behaviour.fail_with = [400]
    with pytest.raises(LLMError, match="400") as caught:
        await llm.complete(HELLO)
    assert not caught.value.retryable
    assert openai_server.requests == []


class _BreaksAfterFirstPiece(ScriptedLLM):
    async def stream_chat(self, messages: Sequence[ChatMessage], **options: object) -> AsyncIterator[str]:
        yield "Hello"
        raise LLMUnavailableError("connection lost mid-answer")


async def test_after_the_first_piece_errors_propagate_and_the_next_provider_is_not_asked() -> None:
    second = ScriptedLLM(["never used"], name="second")
    llm = FallbackLLM([_BreaksAfterFirstPiece([""], name="first"), second])
    received: list[str] = []
    with pytest.raises(LLMUnavailableError, match="mid-answer"):
        async for piece in llm.stream_chat(HELLO):
            received.append(piece)
    assert received == ["Hello"]
    assert second.calls == []


async def test_cancelling_through_the_chain_closes_the_http_stream(
    chain: tuple[FallbackLLM, GeminiLLM, OpenAICompatLLM], gemini_server: FakeGeminiServer
) -> None:
    llm, _, _ = chain
    gemini_server.behaviour.replies = ["slow words keep coming for a long while"]
    gemini_server.behaviour.tokens_per_s = 2
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in llm.stream_chat(HELLO):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await asyncio.to_thread(gemini_server.wait_for_disconnect, 1.0)


@pytest.mark.parametrize(
    ("env", "provider", "expected"),
    [
        ("local", None, ["lmstudio", "gemini"]),  # the fake settings have a Gemini key: it is the fallback
        ("test", "auto", ["lmstudio", "gemini"]),
        ("production", None, ["gemini", "lmstudio"]),
        ("production", "lmstudio", ["lmstudio"]),
        ("local", "gemini", ["gemini"]),
    ],
)
def test_create_llm_follows_the_environment_unless_a_provider_is_named(
    fake_llm_settings: Settings, env: str, provider: str | None, expected: list[str]
) -> None:
    llm: LLMProvider = create_llm(fake_llm_settings.model_copy(update={"env": env}), provider)
    names = [p.name for p in llm.providers] if isinstance(llm, FallbackLLM) else [llm.name]
    assert names == expected
    if len(expected) > 1:
        assert llm.name == f"fallback({','.join(expected)})"


def test_llm_provider_setting_overrides_the_environment(fake_llm_settings: Settings) -> None:
    settings = fake_llm_settings.model_copy(update={"env": "production", "llm_provider": "lmstudio"})
    assert create_llm(settings).name == "lmstudio"


def test_an_unknown_provider_is_an_input_error(fake_llm_settings: Settings) -> None:
    with pytest.raises(InputError, match="no llm engine named 'gpt-17'") as caught:
        create_llm(fake_llm_settings, "gpt-17")
    assert "lmstudio, gemini" in str(caught.value)


def test_providers_satisfy_the_protocol(fake_llm_settings: Settings) -> None:
    for provider in ("lmstudio", "gemini", None):
        assert isinstance(create_llm(production(fake_llm_settings), provider), LLMProvider)
