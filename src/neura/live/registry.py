"""Where live sessions run: a registry in Redis shared by every gateway instance.

Keys (all expire unless their owner keeps them alive with heartbeats, so a crashed instance's sessions
and capacity vanish on their own):

- ``neura:live:instance:<id>``: hash {url, capacity, load, warm} of a gateway instance that runs sessions
  (warm: its engines are loaded, so a new session starts at once);
- ``neura:live:instances``: set of instance ids (stale members are pruned when read);
- ``neura:live:session:<session id>``: hash {instance, url, user} of the instance that owns a session;
- ``neura:live:user:<user id>``: set of the user's session ids, for the per-plan concurrency limit.

A session's slot is reserved atomically (a Lua script prunes the user's dead sessions, counts the rest
and adds the new one only under the limit), so two gateways cannot both let a user past it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from redis.asyncio import Redis

T = TypeVar("T")

PREFIX = "neura:live:"
INSTANCES = PREFIX + "instances"

_RESERVE = """
local user_key, session_prefix = KEYS[1], ARGV[1]
local session_id, limit, ttl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local alive = 0
for _, member in ipairs(redis.call('SMEMBERS', user_key)) do
  if redis.call('EXISTS', session_prefix .. member) == 1 then
    alive = alive + 1
  else
    redis.call('SREM', user_key, member)
  end
end
if alive >= limit then
  return -alive
end
redis.call('SADD', user_key, session_id)
redis.call('HSET', session_prefix .. session_id, 'instance', ARGV[5], 'url', ARGV[6], 'user', ARGV[7])
redis.call('EXPIRE', session_prefix .. session_id, ttl)
redis.call('EXPIRE', user_key, ttl * 4)
return alive + 1
"""


@dataclass(frozen=True)
class InstanceInfo:
    instance_id: str
    url: str
    capacity: int
    load: int
    warm: bool = True

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.load)


@dataclass(frozen=True)
class SessionOwner:
    instance_id: str
    url: str
    user_id: str


async def _call(result: Awaitable[T] | T) -> T:
    """Await a redis-py call (its stubs type the async client's commands as "awaitable or not")."""
    return await cast(Awaitable[T], result)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class LiveRegistry:
    def __init__(self, redis: Redis, *, instance_id: str, url: str, capacity: int, ttl_s: float) -> None:
        self.redis = redis
        self.instance_id = instance_id
        self.url = url.rstrip("/")
        self.capacity = capacity
        self.ttl_s = max(1, round(ttl_s))
        self._reserve = redis.register_script(_RESERVE)

    def _instance_key(self, instance_id: str) -> str:
        return f"{PREFIX}instance:{instance_id}"

    @staticmethod
    def _session_key(session_id: uuid.UUID | str) -> str:
        return f"{PREFIX}session:{session_id}"

    @staticmethod
    def _user_key(user_id: uuid.UUID | str) -> str:
        return f"{PREFIX}user:{user_id}"

    async def heartbeat(self, session_ids: Iterable[uuid.UUID], *, warm: bool = True) -> None:
        """Announce this instance (capacity, load, warm) and keep its sessions' ownership alive."""
        ids = list(session_ids)
        key = self._instance_key(self.instance_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            mapping = {"url": self.url, "capacity": self.capacity, "load": len(ids), "warm": int(warm)}
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, self.ttl_s)
            pipe.sadd(INSTANCES, self.instance_id)
            for session_id in ids:
                pipe.expire(self._session_key(session_id), self.ttl_s)
            await pipe.execute()

    async def reserve(self, session_id: uuid.UUID, user_id: uuid.UUID, limit: int) -> tuple[bool, int]:
        """Claim a slot of the user's concurrency limit for a new session owned here.

        Returns (reserved, the user's live sessions counting this one if reserved)."""
        result = int(
            await self._reserve(
                keys=[self._user_key(user_id)],
                args=[
                    f"{PREFIX}session:",
                    str(session_id),
                    limit,
                    self.ttl_s,
                    self.instance_id,
                    self.url,
                    str(user_id),
                ],
            )
        )
        return (result > 0, abs(result))

    async def release(self, session_id: uuid.UUID, user_id: uuid.UUID) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._session_key(session_id))
            pipe.srem(self._user_key(user_id), str(session_id))
            await pipe.execute()

    async def owner(self, session_id: uuid.UUID) -> SessionOwner | None:
        fields: dict[Any, Any] = await _call(self.redis.hgetall(self._session_key(session_id)))
        if not fields:
            return None
        values = {_text(k): _text(v) for k, v in fields.items()}
        return SessionOwner(values.get("instance", ""), values.get("url", ""), values.get("user", ""))

    async def instances(self) -> list[InstanceInfo]:
        """Live instances, warm ones first, then least loaded first."""
        found: list[InstanceInfo] = []
        members: set[Any] = await _call(self.redis.smembers(INSTANCES))
        for member in members:
            instance_id = _text(member)
            fields = await _call(self.redis.hgetall(self._instance_key(instance_id)))
            if not fields:
                await _call(self.redis.srem(INSTANCES, instance_id))
                continue
            values = {_text(k): _text(v) for k, v in fields.items()}
            found.append(
                InstanceInfo(
                    instance_id,
                    values.get("url", ""),
                    int(values.get("capacity", 0)),
                    int(values.get("load", 0)),
                    values.get("warm", "1") == "1",
                )
            )
        return sorted(found, key=lambda i: (not i.warm, i.load - i.capacity, i.instance_id))

    async def unregister(self) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._instance_key(self.instance_id))
            pipe.srem(INSTANCES, self.instance_id)
            await pipe.execute()
