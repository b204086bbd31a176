"""Rate limits: per user when signed in, per client IP otherwise, stricter on the auth routes; 429 with
Retry-After. Runs its own gateway with a limit of 12 a minute (auth: 5)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from redis.asyncio import Redis

from neura.config import Settings
from neura.gateway.app import create_app
from neura.gateway.ratelimit import hit
from tests.platform import users
from tests.servers import serve_in_thread

LIMIT = 12
AUTH_LIMIT = 5  # max(5, LIMIT // 6)


def clear_counters(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter("neura:ratelimit:*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="module")
def strict_url(platform_settings: Settings) -> Iterator[str]:
    settings = platform_settings.model_copy(update={"rate_limit_per_minute": LIMIT})
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.fixture
def strict(strict_url: str, redis_url: str) -> Iterator[httpx.Client]:
    clear_counters(redis_url)  # every caller in these tests is 127.0.0.1: start each test from zero
    with httpx.Client(base_url=strict_url, timeout=30.0) as http:
        yield http
    clear_counters(redis_url)


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_signed_in_callers_are_counted_per_user(strict: httpx.Client, client: httpx.Client) -> None:
    first, second = users.signup(client), users.signup(client)  # made on the main gateway
    remaining = [
        int(strict.get("/v1/me", headers=first.headers).headers["X-RateLimit-Remaining"]) for _ in range(LIMIT)
    ]
    assert remaining == list(range(LIMIT - 1, -1, -1))
    assert_limited(strict.get("/v1/me", headers=first.headers))
    assert strict.get("/v1/me", headers=second.headers).status_code == 200  # another user, same IP
    assert strict.get("/v1/plans").status_code == 200  # anonymous callers have their own (IP) budget


def test_anonymous_and_badly_authenticated_callers_are_counted_per_ip(strict: httpx.Client) -> None:
    for i in range(LIMIT):
        headers = {"Authorization": "Bearer forged"} if i % 2 else {}
        assert strict.get("/v1/plans", headers=headers).status_code == 200
    assert_limited(strict.get("/v1/plans"))
    assert_limited(strict.get("/v1/me", headers={"Authorization": "Bearer forged"}))


def test_auth_routes_have_a_stricter_limit_per_ip(strict: httpx.Client) -> None:
    for _ in range(AUTH_LIMIT):  # signup, login and refresh share one budget per IP
        assert strict.post("/v1/auth/refresh", json={"refresh_token": "stolen?"}).status_code == 401
    assert_limited(strict.post("/v1/auth/login", json={"email": "victim@example.com", "password": "one more guess"}))
    assert_limited(strict.post("/v1/auth/signup", json={"email": "new@example.com", "password": "long enough pw"}))
    assert strict.get("/v1/plans").status_code == 200  # the default budget is separate


async def test_a_window_slides_and_refused_requests_do_not_count(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    key = f"neura:ratelimit:test:{time.time_ns()}"
    try:
        assert (await hit(client, key, limit=2, window_s=1))[1] == 0
        assert (await hit(client, key, limit=2, window_s=1))[1] == 0
        for _ in range(3):
            assert (await hit(client, key, limit=2, window_s=1))[1] == 1  # refused: retry after 1 s
        assert await client.zcard(key) == 2
        await asyncio.sleep(1.05)
        assert (await hit(client, key, limit=2, window_s=1))[1] == 0
    finally:
        await client.delete(key)
        await client.aclose()


FAILURES = 3
FAILURE_WINDOW_S = 5


@pytest.fixture(scope="module")
def guarded_url(platform_settings: Settings) -> Iterator[str]:
    """A gateway that pauses logins to an account after 3 wrong passwords in 5 s (IP limits out of the way)."""
    settings = platform_settings.model_copy(
        update={
            "rate_limit_per_minute": 10_000,
            "login_max_failures": FAILURES,
            "login_failure_window_s": FAILURE_WINDOW_S,
        }
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


def test_wrong_passwords_pause_logins_to_that_account_only(guarded_url: str, client: httpx.Client) -> None:
    victim, other = users.signup(client), users.signup(client)
    with httpx.Client(base_url=guarded_url, timeout=30.0) as http:

        def login(user: users.TestUser, password: str) -> httpx.Response:
            return http.post("/v1/auth/login", json={"email": user.email.upper(), "password": password})

        for _ in range(FAILURES):
            assert login(victim, "a wrong guess").status_code == 401
        started = time.monotonic()
        paused = login(victim, users.PASSWORD)  # even the right password: the guesser must not learn it
        assert paused.status_code == 429, paused.text
        assert paused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(paused.headers["Retry-After"]) <= FAILURE_WINDOW_S
        assert login(other, users.PASSWORD).status_code == 200  # another account from the same IP

        time.sleep(max(0.0, FAILURE_WINDOW_S + 0.2 - (time.monotonic() - started)))
        assert login(victim, users.PASSWORD).status_code == 200  # the failures left the window
        for _ in range(FAILURES - 1):
            assert login(victim, "a wrong guess").status_code == 401
        assert login(victim, users.PASSWORD).status_code == 200  # a success clears the count
        for _ in range(FAILURES - 1):
            assert login(victim, "a wrong guess").status_code == 401
        assert login(victim, users.PASSWORD).status_code == 200


async def test_parallel_guesses_are_counted_before_any_password_is_checked(
    guarded_url: str, client: httpx.Client
) -> None:
    victim = users.signup(client)
    async with httpx.AsyncClient(base_url=guarded_url, timeout=30.0) as http:
        answers = await asyncio.gather(
            *(http.post("/v1/auth/login", json={"email": victim.email, "password": f"guess {i}"}) for i in range(8))
        )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [401] * FAILURES + [429] * (8 - FAILURES), statuses
