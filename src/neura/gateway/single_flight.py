"""One at a time across every gateway process: a Redis lock around work that must not run twice at once
(rendering an avatar's sample, synthesising a voice's sample), so concurrent requests for the same thing
wait for the first one's result instead of repeating it.

    async with one_at_a_time(redis, f"avatar-sample:{avatar_id}"):
        ...   # look in the cache again, else make it and store it

The lock expires after ``ttl_s`` (a process that dies holding it does not block anyone for longer) and
is released only by its holder.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from neura.errors import BusyError

LOCK_PREFIX = "neura:lock:"
POLL_S = 0.1
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


@asynccontextmanager
async def one_at_a_time(redis: Redis, name: str, *, ttl_s: float = 120.0, wait_s: float = 120.0) -> AsyncIterator[None]:
    """Hold the lock ``name`` for the body; wait up to ``wait_s`` for another holder to finish, then
    :class:`BusyError` (503 with Retry-After)."""
    key, token = LOCK_PREFIX + name, uuid.uuid4().hex
    deadline = time.monotonic() + wait_s
    while not await redis.set(key, token, nx=True, px=math.ceil(ttl_s * 1000)):
        if time.monotonic() > deadline:
            raise BusyError(
                "this is still being made for another request", retry_after_s=5, hint="retry in a few seconds"
            )
        await asyncio.sleep(POLL_S)
    try:
        yield
    finally:
        await asyncio.shield(_release(redis, key, token))


async def _release(redis: Redis, key: str, token: str) -> None:
    """Delete the lock if it is still ours (it may have expired and been taken by someone else)."""
    await redis.eval(_RELEASE, 1, key, token)  # type: ignore[misc]  # redis-py types eval as sync-or-async
