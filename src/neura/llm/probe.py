"""Which language models answer right now: every provider of the table, probed with a models call
(free, unlike a completion) under one short timeout, all at once.

Only the configured endpoints are probed (``LMSTUDIO_BASE_URL``, ``GEMINI_BASE_URL`` or Google's): a
probe never takes an address from its caller.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from neura.config import Settings
from neura.errors import NeuraError
from neura.llm.base import BaseLLM, close_llm
from neura.llm.providers import LLM

PROBE_TIMEOUT_S = 2.0
CACHE_S = 10.0  # how long ProbeCache keeps an answer
SETUP_ALLOWANCE_S = 5.0  # beyond PROBE_TIMEOUT_S, for building a provider's client (a first SDK import)


@dataclass(frozen=True)
class ProviderProbe:
    name: str
    model: str
    summary: str
    chain_position: int | None  # 1-based place in what LLM_PROVIDER tries; None: not tried
    reachable: bool
    latency_ms: float | None  # of the models call, when it answered
    model_listed: bool | None  # whether the answer lists the configured model; None: not reachable
    error: str | None = None
    hint: str | None = None  # what to set or do about the error


async def probe_providers(settings: Settings, timeout_s: float = PROBE_TIMEOUT_S) -> list[ProviderProbe]:
    """Every provider of :data:`~neura.llm.providers.LLM`: first those ``settings.llm_chain`` tries, in
    its order, then the others (configured or not: an unconfigured one says what to set)."""
    chain = settings.llm_chain
    names = chain + [name for name in LLM.names() if name not in chain]
    return list(
        await asyncio.gather(
            *(_probe(name, settings, timeout_s, chain.index(name) + 1 if name in chain else None) for name in names)
        )
    )


async def _probe(name: str, settings: Settings, timeout_s: float, position: int | None) -> ProviderProbe:
    summary = LLM.get(name).summary
    try:
        provider = LLM.create(name, settings)
    except NeuraError as error:  # not installed here
        return ProviderProbe(name, "", summary, position, False, None, None, error.message, error.hint)
    if not isinstance(provider, BaseLLM):
        raise TypeError(f"the {name} provider cannot be probed: it is not a BaseLLM")
    try:
        # timeout_s bounds the models call (the SDKs' own timeouts); this, anything else (an SDK's first import)
        async with asyncio.timeout(timeout_s + SETUP_ALLOWANCE_S):
            answer = await provider.probe(timeout_s)
    except TimeoutError:
        error_text = f"no answer within {timeout_s + SETUP_ALLOWANCE_S:g} s"
        return ProviderProbe(name, provider.model, summary, position, False, None, None, error_text)
    except NeuraError as error:
        return ProviderProbe(name, provider.model, summary, position, False, None, None, error.message, error.hint)
    finally:
        await close_llm(provider)
    listed = provider.model in answer.models
    return ProviderProbe(name, provider.model, summary, position, True, round(answer.latency_ms, 1), listed)


class ProbeCache:
    """The last probe of every provider, kept ``ttl_s`` seconds; callers that arrive while a probe
    runs wait for it instead of probing again."""

    def __init__(self, ttl_s: float = CACHE_S) -> None:
        self.ttl_s = ttl_s
        self._lock = asyncio.Lock()
        self._probes: list[ProviderProbe] = []
        self._probed_at = -float("inf")  # time.monotonic()

    async def get(self, settings: Settings) -> tuple[list[ProviderProbe], float]:
        """The probes and their age in seconds."""
        async with self._lock:
            if time.monotonic() - self._probed_at > self.ttl_s:
                self._probes = await probe_providers(settings)
                self._probed_at = time.monotonic()
            return self._probes, time.monotonic() - self._probed_at
