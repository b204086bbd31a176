"""Language models behind one streaming chat interface.

    llm = create_llm(settings)              # the chain settings.llm_chain names
    async for piece in llm.stream_chat([ChatMessage("user", "Hello")]):
        ...

Providers: ``lmstudio`` (any OpenAI-compatible server), ``gemini``; several become a
:class:`FallbackLLM`. The vendor SDKs are imported only when their provider is built.
"""

from __future__ import annotations

from neura.config import Settings
from neura.errors import InputError
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
from neura.llm.reasoning import ThinkFilter, strip_think

PROVIDER_NAMES = ("lmstudio", "gemini")

__all__ = [
    "PROVIDER_NAMES",
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
    chain of ``settings.llm_chain`` (production: gemini -> lmstudio; elsewhere: lmstudio)."""
    names = settings.llm_chain if provider in (None, "auto") else [provider]
    built = [_build(name, settings) for name in names if name is not None]
    return built[0] if len(built) == 1 else FallbackLLM(built)


def _build(name: str, settings: Settings) -> LLMProvider:
    if name == "lmstudio":
        from neura.llm.openai_compat import OpenAICompatLLM

        return OpenAICompatLLM.from_settings(settings)
    if name == "gemini":
        from neura.llm.gemini import GeminiLLM

        return GeminiLLM.from_settings(settings)
    raise InputError(
        f"unknown language model provider {name!r}", hint=f"choose one of: auto, {', '.join(PROVIDER_NAMES)}"
    )
