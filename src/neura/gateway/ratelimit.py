"""Per-caller rate limits in Redis (sliding window log), applied as a route dependency.

A caller is the user behind the request's credentials (a valid access token or API key) or, without
valid credentials, the client's IP address. Rules (requests a minute, each a setting):

- ``default``: ``RATE_LIMIT_PER_MINUTE`` per caller, for every ``/v1`` route;
- ``auth``: a stricter limit per client IP for signup, login and refresh (password guessing);
- what costs money or CPU, on top of ``default``: ``live_sessions`` (``LIVE_SESSIONS_PER_MINUTE``
  sessions opened per user), ``live_messages`` (``LIVE_MESSAGES_PER_MINUTE`` per user, over HTTP and the
  data channel alike: each one is a paid language-model call), ``speech`` (``SPEECH_PER_MINUTE``
  requests to /v1/tts, /v1/audio/speech, /v1/audio/transcriptions, /v1/align and WebSocket TTS
  connections per user), ``script_drafts`` (``SCRIPT_DRAFTS_PER_MINUTE``),
  ``tts_stream_messages`` (``TTS_STREAM_MESSAGES_PER_MINUTE`` messages on TTS WebSockets per user) and
  ``files`` (``FILES_PER_MINUTE`` signed downloads per client IP: a video player's Range requests);
- per account: after ``LOGIN_MAX_FAILURES`` wrong passwords for one email within
  ``LOGIN_FAILURE_WINDOW_S``, from any number of IPs, logins to it answer 429 until the oldest failure
  leaves the window (guessing spread over many addresses). An attempt is counted before its password
  is checked, so parallel guesses are counted too; a successful login clears the count.

Routers opt in with ``APIRouter(dependencies=[RateLimited])`` or a route with
``dependencies=[AuthRateLimited]`` (or ``Depends(rate_limit("speech"))``); code that is not a route
(WebSockets, the live data channel) calls :func:`limit_user`. Over a limit the request fails with 429
and ``Retry-After`` (a WebSocket closes with 1013).
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
from neura.gateway.client_address import client_ip
from neura.gateway.deps import DbSession, RedisDep, SettingsDep, peek_credentials
from neura.gateway.errors import raises
from neura.security import API_KEY_PREFIX, decode_token, hash_api_key

WINDOW_S = 60
RATE_LIMIT_PREFIX = "neura:ratelimit:"
MIN_PER_MINUTE = 5


@dataclass(frozen=True)
class RateRule:
    name: str
    per_ip_only: bool  # True: count by client IP even for signed-in callers
    per_minute: Callable[[Settings], int]
    what: str = "requests"  # in the 429's message: "too many <what>"

    def limit(self, settings: Settings) -> int:
        return max(1, self.per_minute(settings))


RULES = {
    "default": RateRule("default", False, lambda s: s.rate_limit_per_minute),
    # 120 a minute -> 20 signups/logins/refreshes per IP
    "auth": RateRule("auth", True, lambda s: max(MIN_PER_MINUTE, s.rate_limit_per_minute // 6)),
    "live_sessions": RateRule("live_sessions", False, lambda s: s.live_sessions_per_minute, "live sessions opened"),
    "live_messages": RateRule("live_messages", False, lambda s: s.live_messages_per_minute, "live messages"),
    "speech": RateRule("speech", False, lambda s: s.speech_per_minute, "speech requests"),
    "tts_stream_messages": RateRule(
        "tts_stream_messages", False, lambda s: s.tts_stream_messages_per_minute, "TTS stream messages"
    ),
    "files": RateRule("files", True, lambda s: s.files_per_minute, "downloads"),
    "script_drafts": RateRule("script_drafts", False, lambda s: s.script_drafts_per_minute, "script drafts"),
}


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


def _refusal(rule: RateRule, limit: int, retry_after_s: int) -> RateLimitedError:
    return RateLimitedError(
        f"too many {rule.what}: the limit is {limit} a minute",
        retry_after_s=retry_after_s,
        hint=f"retry in {retry_after_s} s",
    )


async def limit_user(redis: Redis, settings: Settings, rule_name: str, user_id: uuid.UUID) -> None:
    """Count one use of ``rule_name`` by ``user_id``; RateLimitedError over the limit (for code that is
    not a route: WebSocket messages, the live data channel)."""
    rule = RULES[rule_name]
    limit = rule.limit(settings)
    _, retry_after_s = await hit(redis, f"{RATE_LIMIT_PREFIX}{rule.name}:user:{user_id}", limit)
    if retry_after_s:
        raise _refusal(rule, limit, retry_after_s)


def rate_limit(rule_name: str = "default") -> Callable[..., Awaitable[None]]:
    """A dependency that counts the request under ``rule_name`` and raises RateLimitedError over it."""
    rule = RULES[rule_name]

    async def count(request: Request, response: Response, redis: Redis, settings: Settings, caller: str) -> None:
        limit = rule.limit(settings)
        used, retry_after_s = await hit(redis, f"{RATE_LIMIT_PREFIX}{rule.name}:{caller}", limit)
        if retry_after_s:
            raise _refusal(rule, limit, retry_after_s)
        remaining = max(0, limit - used)
        shown = response.headers.get("X-RateLimit-Remaining")
        if shown is None or remaining < int(shown):  # several rules: the one nearest its limit
            response.headers["X-RateLimit-Limit"] = str(limit)
            response.headers["X-RateLimit-Remaining"] = str(remaining)

    @raises(RateLimitedError)
    async def check_ip(request: Request, response: Response, redis: RedisDep, settings: SettingsDep) -> None:
        await count(request, response, redis, settings, f"ip:{client_ip(request)}")  # no database needed

    @raises(RateLimitedError)
    async def check_caller(
        request: Request, response: Response, session: DbSession, redis: RedisDep, settings: SettingsDep
    ) -> None:
        caller = getattr(request.state, "rate_caller", None) or await _caller(request, session, settings)
        request.state.rate_caller = caller  # a second rule on the same request looks it up once
        await count(request, response, redis, settings, caller)

    return check_ip if rule.per_ip_only else check_caller


RateLimited = Depends(rate_limit("default"))
AuthRateLimited = Depends(rate_limit("auth"))
SpeechRateLimited = Depends(rate_limit("speech"))
FilesRateLimited = Depends(rate_limit("files"))


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
