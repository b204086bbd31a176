"""What the cluster can run: every worker and media process advertises its capabilities in Redis.

Keys (each expires unless its owner re-advertises, so a crashed process vanishes on its own):

- ``neura:cap:member:<id>``: JSON of one process's :class:`Capabilities` (TTS voices, render backends,
  STT engines, GPU, load, whether it is draining);
- ``neura:cap:members``: set of member ids (stale ones are pruned when read).

The API process imports this module, never the engines: it validates a request against what the live
members advertise (:func:`require_voice`: 503 ``no_capacity`` when nobody can run it) and routes a
render to the queue of its voice's engine, which only workers advertising that engine read.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar, cast

from redis.asyncio import Redis

from neura.errors import NoCapacityError

T = TypeVar("T")

PREFIX = "neura:cap:"
MEMBERS = PREFIX + "members"

MemberRole = Literal["worker", "media"]


@dataclass(frozen=True)
class Gpu:
    model: str
    free_memory_mb: int


@dataclass(frozen=True)
class Capabilities:
    """One process's advertisement. ``load``/``capacity``: renders (worker) or live sessions (media)."""

    member_id: str
    role: MemberRole
    tts_voices: list[str] = field(default_factory=list)  # "engine:voice", as GET /v1/voices lists them
    render_backends: list[str] = field(default_factory=list)
    stt_engines: list[str] = field(default_factory=list)
    gpu: Gpu | None = None
    url: str = ""  # media: where the API forwards to; worker: none
    load: int = 0
    capacity: int = 0
    draining: bool = False

    @property
    def tts_engines(self) -> list[str]:
        return sorted({voice.partition(":")[0] for voice in self.tts_voices})

    def speaks(self, voice: str) -> bool:
        return voice in self.tts_voices

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "tts_engines": self.tts_engines}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Capabilities:
        data: dict[str, Any] = json.loads(raw)
        data.pop("tts_engines", None)
        gpu = data.pop("gpu", None)
        return cls(**data, gpu=Gpu(**gpu) if gpu else None)


async def _call(result: Awaitable[T] | T) -> T:
    """Await a redis-py call (its stubs type the async client's commands as "awaitable or not")."""
    return await cast(Awaitable[T], result)


class CapabilityRegistry:
    def __init__(self, redis: Redis, *, ttl_s: float) -> None:
        self.redis = redis
        self.ttl_s = max(1, round(ttl_s))

    @staticmethod
    def _key(member_id: str) -> str:
        return f"{PREFIX}member:{member_id}"

    async def advertise(self, capabilities: Capabilities) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._key(capabilities.member_id), capabilities.to_json(), ex=self.ttl_s)
            pipe.sadd(MEMBERS, capabilities.member_id)
            await pipe.execute()

    async def withdraw(self, member_id: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._key(member_id))
            pipe.srem(MEMBERS, member_id)
            await pipe.execute()

    async def members(self) -> list[Capabilities]:
        """Every live member, in id order (expired ones are pruned)."""
        ids = sorted(m.decode() if isinstance(m, bytes) else str(m) for m in await _call(self.redis.smembers(MEMBERS)))
        if not ids:
            return []
        raws = await self.redis.mget([self._key(member_id) for member_id in ids])
        found = []
        for member_id, raw in zip(ids, raws, strict=True):
            if raw is None:
                await _call(self.redis.srem(MEMBERS, member_id))
            else:
                found.append(Capabilities.from_json(raw))
        return found

    async def ready(self, role: MemberRole) -> list[Capabilities]:
        """Members of ``role`` that take new work (not draining), least loaded first."""
        members = [m for m in await self.members() if m.role == role and not m.draining]
        return sorted(members, key=lambda m: (m.load - m.capacity, m.member_id))


async def require_voice(registry: CapabilityRegistry, voice: str, *, retry_after_s: int) -> list[Capabilities]:
    """The workers that can render speaking ``voice``; NoCapacityError (503 no_capacity) when none is up."""
    workers = await registry.ready("worker")
    able = [w for w in workers if w.speaks(voice)]
    if not able:
        offered = sorted({v for w in workers for v in w.tts_voices})
        raise NoCapacityError(
            f"no worker that is up now can render with the voice {voice!r}",
            retry_after_s=retry_after_s,
            hint=f"retry later, or choose one of: {', '.join(offered)}"
            if offered
            else "retry later: no worker is running (GET /v1/capabilities shows what the cluster can do)",
        )
    return able
