"""Per-caller rate limits in Redis (sliding window log), applied as a route dependency.

A caller is the user behind the request's credentials (a valid access token or API key) or, without
valid credentials, the client's IP address. Rules:

- ``default``: ``RATE_LIMIT_PER_MINUTE`` requests a minute per caller, for every ``/v1`` route;
- ``auth``: a stricter limit per client IP for signup, login and refresh (password guessing);
- per account: after ``LOGIN_MAX_FAILURES`` wrong passwords for one email within
  ``LOGIN_FAILURE_WINDOW_S``, from any number of IPs, logins to it answer 429 until the oldest failure
  leaves the window (guessing spread over many addresses). An attempt is counted before its password
  is checked, so parallel guesses are counted too; a successful login clears the count.

Routers opt in with ``APIRouter(dependencies=[RateLimited])`` or a route with
``dependencies=[AuthRateLimited]``. Over the limit the request fails with 429 and ``Retry-After``.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Depends, Request, Response
from redis.asyncio import Redis
from sqlalchemy import select

from neura.config import Settings
from neura.db.models import ApiKey
from neura.errors import AuthError, RateLimitedError
from neura.gateway.deps import DbSession, RedisDep, SettingsDep, peek_credentials
from neura.gateway.errors import raises
from neura.security import API_KEY_PREFIX, decode_token, hash_api_key

WINDOW_S = 60
RATE_LIMIT_PREFIX = "neura:ratelimit:"


@dataclass(frozen=True)
class RateRule:
    name: str
    per_ip_only: bool  # True: count by client IP even for signed-in callers
    divisor: int = 1  # allows RATE_LIMIT_PER_MINUTE // divisor requests a minute (at least MIN_PER_MINUTE)

    def limit(self, settings: Settings) -> int:
        return max(MIN_PER_MINUTE, settings.rate_limit_per_minute // self.divisor)


MIN_PER_MINUTE = 5
RULES = {
    "default": RateRule("default", per_ip_only=False),
    "auth": RateRule("auth", per_ip_only=True, divisor=6),  # 120 a minute -> 20 signups/logins/refreshes per IP
}


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _caller(request: Request, session: DbSession, settings: Settings) -> str:
    """``user:<id>`` for valid credentials, otherwise ``ip:<address>``. Cheap: a JWT is only verified,
    an API key costs one indexed lookup; invalid credentials are counted against the IP."""
    token = peek_credentials(request) or ""
    if token.startswith(API_KEY_PREFIX):
        user_id = await session.scalar(
            select(ApiKey.user_id).where(ApiKey.key_hash == hash_api_key(token), ApiKey.revoked_at.is_(None))
        )
        if user_id is not None:
            return f"user:{user_id}"
    elif token:
        with contextlib.suppress(AuthError):  # invalid: counted against the IP; the route answers 401
            return f"user:{decode_token(settings.secret_key, token, 'access').user_id}"
    return f"ip:{client_ip(request)}"


async def hit(redis: Redis, key: str, limit: int, window_s: int = WINDOW_S) -> tuple[int, int]:
    """Count one request under ``key``: (requests in the window including this one, seconds until a
    slot frees up). A refused request is not counted, so a caller that backs off gets through again."""
    now_ms = int(time.time() * 1000)
    window_ms = window_s * 1000
    member = f"{now_ms}:{uuid.uuid4().hex[:8]}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, 0, now_ms - window_ms)
        pipe.zadd(key, {member: now_ms})
        pipe.zcard(key)
        pipe.zrange(key, 0, 0, withscores=True)
        pipe.pexpire(key, window_ms)
        _, _, count, oldest, _ = await pipe.execute()
    if count <= limit:
        return int(count), 0
    await redis.zrem(key, member)
    oldest_ms = int(oldest[0][1]) if oldest else now_ms
    return int(count), max(1, math.ceil((oldest_ms + window_ms - now_ms) / 1000))


def rate_limit(rule_name: str = "default") -> Callable[..., Awaitable[None]]:
    """A dependency that counts the request under ``rule_name`` and raises RateLimitedError over it."""
    rule = RULES[rule_name]

    @raises(RateLimitedError)
    async def check(
        request: Request, response: Response, session: DbSession, redis: RedisDep, settings: SettingsDep
    ) -> None:
        caller = f"ip:{client_ip(request)}" if rule.per_ip_only else await _caller(request, session, settings)
        limit = rule.limit(settings)
        count, retry_after_s = await hit(redis, f"{RATE_LIMIT_PREFIX}{rule.name}:{caller}", limit)
        if retry_after_s:
            raise RateLimitedError(
                f"too many requests: the limit is {limit} a minute",
                retry_after_s=retry_after_s,
                hint=f"retry in {retry_after_s} s",
            )
        response.headers["X-RateLimit-Limit"] = str(limit)
        response.headers["X-RateLimit-Remaining"] = str(max(0, limit - count))

    return check


RateLimited = Depends(rate_limit("default"))
AuthRateLimited = Depends(rate_limit("auth"))


def _login_failures_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]  # no addresses in Redis keys
    return f"{RATE_LIMIT_PREFIX}login-failures:{digest}"


async def begin_login(redis: Redis, settings: Settings, email: str) -> None:
    """Count a login attempt to this account *before* the password is checked (so parallel guesses
    cannot all pass a count taken before any of them failed); RateLimitedError when the window already
    holds ``LOGIN_MAX_FAILURES``. A failed attempt stays counted; :func:`clear_login_failures` forgets
    them all after a success."""
    window_s = settings.login_failure_window_s
    _, retry_after_s = await hit(redis, _login_failures_key(email), settings.login_max_failures, window_s)
    if retry_after_s:
        raise RateLimitedError(
            "too many wrong passwords for this account: logins to it are paused",
            retry_after_s=retry_after_s,
            hint=f"retry in {retry_after_s} s, or reset the password",
        )


async def clear_login_failures(redis: Redis, email: str) -> None:
    await redis.delete(_login_failures_key(email))
