"""One streaming chat interface for every language model NEURA talks to.

A provider is a leaf class that writes only :meth:`BaseLLM._stream` (one attempt, raw text pieces,
errors already translated into :mod:`neura.errors`). The base owns what every provider needs alike:
retries with backoff for retryable errors *before the first piece of text* (never after, because the
consumer already spoke those words), and :meth:`complete`, which joins a stream.

Cancellation: cancelling the task that consumes :meth:`stream_chat` closes the HTTP stream at once (the
provider's ``finally`` closes its response). A consumer that stops early without being cancelled
should close the generator, e.g. ``async with closing_stream(llm.stream_chat(...)) as pieces``.
"""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from neura.errors import LLMError, LLMUnavailableError

Role = Literal["system", "user", "assistant"]
T = TypeVar("T")

#: What a user can do when no language model answers; every "unavailable" error carries it, and
#: NO_LLM_FIELDS: a script given as is needs no language model (the CLI shows its flag for it).
START_LM_STUDIO = "start LM Studio and load a model"
USE_GEMINI = "set GEMINI_API_KEY"
WRITE_IT_YOURSELF = "give the script yourself"
UNAVAILABLE_HINT = f"{START_LM_STUDIO}, or {USE_GEMINI}, or {WRITE_IT_YOURSELF}"
NO_LLM_FIELDS: Mapping[str, str | None] = MappingProxyType({"script": None})


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class JsonSchema:
    """The shape an answer must have (structured output): a name (``[A-Za-z0-9_-]``, OpenAI's
    ``json_schema.name``) and a JSON Schema. Servers that can constrain their output to it do; the
    others are asked for JSON in the prompt, so a caller still checks what comes back."""

    name: str
    schema: Mapping[str, Any]


@runtime_checkable
class LLMProvider(Protocol):
    """A chat model that streams its answer as text pieces."""

    @property
    def name(self) -> str:
        """``"lmstudio"``, ``"gemini"`` or ``"fallback(...)"``."""
        ...

    @property
    def model(self) -> str: ...

    @property
    def endpoint(self) -> str:
        """The URL shown to users in errors."""
        ...

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.7,
        max_tokens: int | None = None,
        json_mode: bool = False,
        json_schema: JsonSchema | None = None,
    ) -> AsyncIterator[str]: ...

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.7,
        max_tokens: int | None = None,
        json_mode: bool = False,
        json_schema: JsonSchema | None = None,
    ) -> str: ...


@dataclass(frozen=True)
class ProbeAnswer:
    """A provider's answer to :meth:`BaseLLM.probe`."""

    models: list[str]  # the model ids it lists
    latency_ms: float  # of the models call alone (building the SDK client is not counted)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries for retryable errors (5xx, 429) raised before the first piece of text.

    Unreachable servers (:class:`LLMUnavailableError`) are not retried here: a fallback chain moves on
    to the next provider instead, and a user without one gets the fix-it message at once.
    """

    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 4.0

    def delay_s(self, retry_index: int) -> float:
        """Exponential backoff with jitter: about 0.5, 1, 2 s for the defaults."""
        delay = min(self.max_delay_s, self.base_delay_s * 2**retry_index)
        return delay * random.uniform(0.8, 1.2)


class BaseLLM(ABC):
    """Retries and :meth:`complete` for providers; a provider implements :meth:`_stream` only."""

    name: str
    model: str
    endpoint: str

    def __init__(self, *, retry: RetryPolicy | None = None) -> None:
        self.retry = retry or RetryPolicy()

    @abstractmethod
    def _stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float,
        max_tokens: int | None,
        json_mode: bool,
        json_schema: JsonSchema | None,
    ) -> AsyncIterator[str]:
        """One attempt: yield text pieces; raise :class:`LLMError` subclasses; close the HTTP stream in
        ``finally``."""

    async def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.7,
        max_tokens: int | None = None,
        json_mode: bool = False,
        json_schema: JsonSchema | None = None,
    ) -> AsyncIterator[str]:
        """``json_mode``: ask for a JSON answer; ``json_schema``: ask for JSON of that shape (implies
        ``json_mode``)."""
        if not messages:
            raise ValueError("stream_chat needs at least one message")
        retries = 0
        while True:
            emitted = False
            attempt = self._stream(
                messages,
                temperature=temperature,
                max_tokens=max_tokens,
                json_mode=json_mode or json_schema is not None,
                json_schema=json_schema,
            )
            try:
                async with closing_stream(attempt) as pieces:
                    async for piece in pieces:
                        if piece:
                            emitted = True
                            yield piece
                return
            except LLMError as error:
                if not self._should_retry(error, emitted=emitted, retries=retries):
                    raise
            await asyncio.sleep(self.retry.delay_s(retries))
            retries += 1

    def _should_retry(self, error: LLMError, *, emitted: bool, retries: int) -> bool:
        return (
            not emitted
            and error.retryable
            and not isinstance(error, LLMUnavailableError)
            and retries < self.retry.max_retries
        )

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

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing
        """Release connections; providers with a client override this."""

    @abstractmethod
    async def probe(self, timeout_s: float) -> ProbeAnswer:
        """Whether the provider answers, without paying for a completion: the models it lists (a models
        call, which ``timeout_s`` bounds). Raises :class:`LLMUnavailableError` when it cannot be reached or
        refuses the credentials, :class:`LLMError` otherwise, in messages that name no address (users see
        them)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, model={self.model!r}, endpoint={self.endpoint!r})"


async def join_stream(
    llm: LLMProvider,
    messages: Sequence[ChatMessage],
    *,
    temperature: float = 0.7,
    max_tokens: int | None = None,
    json_mode: bool = False,
    json_schema: JsonSchema | None = None,
) -> str:
    """The whole answer of ``llm.stream_chat`` as one string."""
    stream = llm.stream_chat(
        messages, temperature=temperature, max_tokens=max_tokens, json_mode=json_mode, json_schema=json_schema
    )
    async with closing_stream(stream) as pieces:
        return "".join([piece async for piece in pieces])


@asynccontextmanager
async def closing_stream(stream: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Like :func:`contextlib.aclosing` for any async iterator: closes it (and so its HTTP stream) on
    exit, also when the consumer stops early."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def close_llm(llm: LLMProvider) -> None:
    """Release a provider's connections (``aclose()`` is optional in the protocol)."""
    aclose = getattr(llm, "aclose", None)
    if aclose is not None:
        await aclose()
