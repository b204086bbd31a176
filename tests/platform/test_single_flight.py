"""The Redis lock behind samples: one holder at a time, a waiter gets the lock once it is released or
gives up with a 503 BusyError, and a lock that outlived its holder's time is not released by it."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from neura.errors import BusyError
from neura.gateway.single_flight import LOCK_PREFIX, one_at_a_time


async def test_one_holder_at_a_time(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    order: list[str] = []

    async def hold(name: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        async with one_at_a_time(redis, "test-one", wait_s=5):
            order.append(f"{name} in")
            await asyncio.sleep(0.2)
            order.append(f"{name} out")

    try:
        await asyncio.gather(hold("first", 0), hold("second", 0.05))
        assert order == ["first in", "first out", "second in", "second out"]
        assert await redis.exists(LOCK_PREFIX + "test-one") == 0
    finally:
        await redis.aclose()


async def test_a_waiter_gives_up_with_503_and_retry_after(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        async with one_at_a_time(redis, "test-busy"):
            with pytest.raises(BusyError) as busy:
                async with one_at_a_time(redis, "test-busy", wait_s=0.3):
                    pytest.fail("two holders")
        assert busy.value.http_status == 503 and busy.value.http_headers == {"Retry-After": "5"}
    finally:
        await redis.aclose()


async def test_an_expired_lock_is_not_released_by_its_old_holder(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    key = LOCK_PREFIX + "test-expired"
    try:
        async with one_at_a_time(redis, "test-expired", ttl_s=0.2):
            await asyncio.sleep(0.4)  # expired: someone else takes it
            await redis.set(key, b"someone else")
        assert await redis.get(key) == b"someone else"
    finally:
        await redis.delete(key)
        await redis.aclose()
