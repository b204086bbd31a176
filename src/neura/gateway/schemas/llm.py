"""What ``GET /v1/llm/providers`` reports: which language models this server can reach."""

from __future__ import annotations

from pydantic import BaseModel, Field

from neura.llm.probe import ProviderProbe


class LLMProviderStatus(BaseModel):
    name: str = Field(description="the provider ('lmstudio': LM Studio or any OpenAI-compatible server; 'gemini')")
    summary: str
    model: str = Field(description="the model this server asks it for (LMSTUDIO_MODEL, GEMINI_MODEL)")
    chain_position: int | None = Field(
        description="its place in what LLM_PROVIDER tries (1 first; auto: a chain with fallbacks); null: not tried"
    )
    reachable: bool = Field(description="it answered the models call and took the credentials")
    latency_ms: float | None = Field(description="how long that call took (connection set-up included)")
    model_listed: bool | None = Field(
        description="whether its answer lists `model` (llama.cpp's server answers any model name); "
        "null when unreachable"
    )
    error: str | None = Field(description="why it is not reachable")
    hint: str | None = Field(description="what to set or do about it")

    @classmethod
    def of(cls, probe: ProviderProbe) -> LLMProviderStatus:
        return cls(
            name=probe.name,
            summary=probe.summary,
            model=probe.model,
            chain_position=probe.chain_position,
            reachable=probe.reachable,
            latency_ms=probe.latency_ms,
            model_listed=probe.model_listed,
            error=probe.error,
            hint=probe.hint,
        )


class LLMProviderList(BaseModel):
    llm_provider: str = Field(description="this server's LLM_PROVIDER: 'auto' or a provider's name")
    items: list[LLMProviderStatus] = Field(description="the providers tried first, in order, then the others")
    age_s: float = Field(description="how old these probes are (they are cached for a few seconds)")
