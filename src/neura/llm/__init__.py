"""Language models behind one streaming chat interface.

    llm = create_llm(settings)              # the chain settings.llm_chain names
    async for piece in llm.stream_chat([ChatMessage("user", "Hello")]):
        ...

Providers are the names of the table :data:`~neura.llm.providers.LLM` (``lmstudio``: any
OpenAI-compatible server; ``gemini``); several become a :class:`FallbackLLM`. The vendor SDKs are
imported only when their provider is built.
"""

from __future__ import annotations

from neura.config import Settings
from neura.llm.base import (
    UNAVAILABLE_HINT,
    BaseLLM,
    ChatMessage,
    JsonSchema,
    LLMProvider,
    RetryPolicy,
    close_llm,
    closing_stream,
    join_stream,
)
from neura.llm.fallback import FallbackLLM
from neura.llm.providers import AUTO, LLM
from neura.llm.reasoning import ThinkFilter, strip_think

__all__ = [
    "AUTO",
    "LLM",
    "UNAVAILABLE_HINT",
    "BaseLLM",
    "ChatMessage",
    "FallbackLLM",
    "JsonSchema",
    "LLMProvider",
    "RetryPolicy",
    "ThinkFilter",
    "close_llm",
    "closing_stream",
    "create_llm",
    "join_stream",
    "strip_think",
]


def create_llm(settings: Settings, provider: str | None = None) -> LLMProvider:
    """The provider ``provider`` names (``"lmstudio"``, ``"gemini"``), or with ``None``/``"auto"`` the
    chain of ``settings.llm_chain`` (production: gemini -> lmstudio; elsewhere: lmstudio, then gemini when
    GEMINI_API_KEY is set). A name not in the table is an :class:`~neura.providers.UnknownProviderError`
    (an InputError naming the choices)."""
    names = settings.llm_chain if provider in (None, AUTO) else [provider]
    built = [LLM.create(name, settings) for name in names if name is not None]
    return built[0] if len(built) == 1 else FallbackLLM(built)
