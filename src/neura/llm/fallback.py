"""A chain of providers tried in order (production: Gemini, then LM Studio)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from neura.errors import LLMError, LLMUnavailableError
from neura.llm.base import (
    NO_LLM_FIELDS,
    WRITE_IT_YOURSELF,
    ChatMessage,
    JsonSchema,
    LLMProvider,
    close_llm,
    closing_stream,
    join_stream,
)


class FallbackLLM:
    """Tries each provider in turn.

    It moves on when a provider is unreachable (:class:`LLMUnavailableError`) or fails in a retryable
    way (5xx, 429, after the provider's own retries) *before its first piece of text*. Once text has
    been emitted, errors propagate: the consumer may already have spoken it. A non-retryable error
    (a 400: our request is wrong) also propagates, since the next provider would refuse it too.
    """

    def __init__(self, providers: Sequence[LLMProvider]) -> None:
        if not providers:
            raise ValueError("FallbackLLM needs at least one provider")
        self.providers = list(providers)
        self.last_provider: LLMProvider | None = None  # the provider that answered most recently

    @property
    def name(self) -> str:
        return f"fallback({','.join(p.name for p in self.providers)})"

    @property
    def model(self) -> str:
        return (self.last_provider or self.providers[0]).model

    @property
    def endpoint(self) -> str:
        return " -> ".join(p.endpoint for p in self.providers)

    async def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.7,
        max_tokens: int | None = None,
        json_mode: bool = False,
        json_schema: JsonSchema | None = None,
    ) -> AsyncIterator[str]:
        failures: list[tuple[LLMProvider, LLMError]] = []
        for provider in self.providers:
            emitted = False
            stream = provider.stream_chat(
                messages, temperature=temperature, max_tokens=max_tokens, json_mode=json_mode, json_schema=json_schema
            )
            try:
                async with closing_stream(stream) as pieces:
                    async for piece in pieces:
                        if not emitted:
                            emitted = True
                            self.last_provider = provider
                        yield piece
                if not emitted:
                    self.last_provider = provider
                return
            except LLMError as error:
                if emitted or not error.retryable:
                    raise
                failures.append((provider, error))
        raise _all_failed(failures)

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.7,
        max_tokens: int | None = None,
        json_mode: bool = False,
        json_schema: JsonSchema | None = None,
    ) -> str:
        return await join_stream(
            self, messages, temperature=temperature, max_tokens=max_tokens, json_mode=json_mode, json_schema=json_schema
        )

    async def aclose(self) -> None:
        for provider in self.providers:
            await close_llm(provider)

    def __repr__(self) -> str:
        return f"FallbackLLM({self.providers!r})"


def _all_failed(failures: list[tuple[LLMProvider, LLMError]]) -> LLMError:
    lines = "\n".join(f"  - {p.name} ({p.endpoint}): {e.message}" for p, e in failures)
    message = f"no language model could answer:\n{lines}"
    # each provider that was tried says how to fix it (its setup is there: no "set GEMINI_API_KEY" for a
    # key that is set but refused), then the way that needs none
    fixes = dict.fromkeys(getattr(p, "setup_hint", f"check {p.name}") for p, _ in failures)
    hint = ", or ".join([*fixes, WRITE_IT_YOURSELF])
    if all(isinstance(e, LLMUnavailableError) for _, e in failures):
        return LLMUnavailableError(message, hint=hint, fields=NO_LLM_FIELDS)
    return LLMError(message, hint=hint, retryable=True, fields=NO_LLM_FIELDS)
