"""``GET /v1/llm/providers``: which language models this server reaches now (for a settings page)."""

from __future__ import annotations

from fastapi import APIRouter

from neura.gateway.deps import CurrentUser, State
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.llm import LLMProviderList, LLMProviderStatus
from neura.llm.probe import CACHE_S, PROBE_TIMEOUT_S

router = APIRouter(prefix="/v1/llm", tags=["llm"], dependencies=[RateLimited])


@router.get(
    "/providers",
    operation_id="listLlmProviders",
    summary="The language model providers this server tries, and whether each answers now",
    description="Every provider of the server's table: first those `LLM_PROVIDER` tries, in its order (`auto`: "
    "a chain with fallbacks), then the others. Each is probed with its models "
    f"call, which costs nothing (never a completion), within {PROBE_TIMEOUT_S:g} s, all at once; the answer is "
    f"cached for {CACHE_S:g} s (`age_s`). Only the server's configured endpoints are probed, and errors name no "
    "address. No credits.",
)
async def list_llm_providers(user: CurrentUser, state: State) -> LLMProviderList:
    probes, age_s = await state.llm_probes.get(state.settings)
    return LLMProviderList(
        llm_provider=state.settings.llm_provider,
        items=[LLMProviderStatus.of(probe) for probe in probes],
        age_s=round(age_s, 1),
    )
