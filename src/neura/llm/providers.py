"""The language model provider table: one line per provider.

    LLM.add("lmstudio", _lmstudio, "...")     # a factory (settings) -> LLMProvider

``LLM_PROVIDER`` is one of these names, or ``auto`` (:data:`AUTO`: the chain ``Settings.llm_chain``
picks, which :func:`neura.llm.create_llm` wraps in a fallback). The vendor SDKs are imported by the
factories, so reading the names (settings validation, ``--help``) imports none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neura.providers import ProviderTable

if TYPE_CHECKING:
    from neura.config import Settings
    from neura.llm.base import LLMProvider

AUTO = "auto"
"""Not a provider: the chain of them that ``Settings.llm_chain`` names (production: gemini, then lmstudio)."""

LLM: ProviderTable[LLMProvider] = ProviderTable("llm", setting="LLM_PROVIDER")


def _lmstudio(settings: Settings) -> LLMProvider:
    from neura.llm.openai_compat import OpenAICompatLLM

    return OpenAICompatLLM.from_settings(settings)


def _gemini(settings: Settings) -> LLMProvider:
    from neura.llm.gemini import GeminiLLM

    return GeminiLLM.from_settings(settings)


LLM.add("lmstudio", _lmstudio, "LM Studio or any OpenAI-compatible server (LMSTUDIO_BASE_URL, LMSTUDIO_MODEL)")
LLM.add("gemini", _gemini, "Google Gemini (GEMINI_API_KEY, GEMINI_MODEL)")
