"""Rate limits: per user when signed in, per client IP otherwise, stricter on the auth routes; 429 with
Retry-After. Runs its own gateway with a limit of 12 a minute (auth: 5)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from neura.config import Settings
from neura.gateway.app import create_app
from neura.gateway.ratelimit import hit
from neura.gateway.server import uvicorn_options
from neura.gateway.signed_urls import signed_url
from neura.storage import LocalStorage
from tests.platform import users
from tests.platform.speech_client import ws_url
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


def gateway_with(platform_settings: Settings, **changes: object) -> Iterator[str]:
    """A gateway of this module's own: the test settings with ``changes``."""
    settings = platform_settings.model_copy(update=changes)
    with serve_in_thread(create_app(settings), **uvicorn_options(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def strict_url(platform_settings: Settings) -> Iterator[str]:
    yield from gateway_with(platform_settings, rate_limit_per_minute=LIMIT)


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


@pytest.mark.parametrize("caller", ["one user", "made-up API keys"])
async def test_a_parallel_burst_gets_exactly_the_limit(
    strict_url: str, strict: httpx.Client, client: httpx.Client, caller: str
) -> None:
    """Three times the limit at once: exactly the limit gets through (no race past the counter), and
    guessing API keys in parallel spends the IP's budget, not one budget per guess."""
    user = users.signup(client) if caller == "one user" else None

    def headers(i: int) -> dict[str, str]:
        return user.headers if user is not None else {"X-API-Key": f"nk_guess{i:040d}"}

    async with httpx.AsyncClient(base_url=strict_url, timeout=60.0) as http:
        answers = await asyncio.gather(*(http.get("/v1/me", headers=headers(i)) for i in range(3 * LIMIT)))
    through = 200 if user is not None else 401
    assert sorted(answer.status_code for answer in answers) == sorted([through] * LIMIT + [429] * (2 * LIMIT))
    assert_limited(next(answer for answer in answers if answer.status_code == 429))


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
    yield from gateway_with(
        platform_settings,
        rate_limit_per_minute=10_000,
        login_max_failures=FAILURES,
        login_failure_window_s=FAILURE_WINDOW_S,
    )


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


# --- what costs money or CPU has limits of its own (speech, TTS stream messages, signed downloads)

SPEECH = 3
STREAM_MESSAGES = 6
FILES = 4


@pytest.fixture(scope="module")
def costly_url(platform_settings: Settings) -> Iterator[str]:
    """A gateway with small limits on speech, TTS-stream messages and downloads (the rest out of the way)."""
    yield from gateway_with(
        platform_settings,
        rate_limit_per_minute=10_000,
        speech_per_minute=SPEECH,
        tts_stream_messages_per_minute=STREAM_MESSAGES,
        files_per_minute=FILES,
    )


@pytest.fixture
def costly(costly_url: str, redis_url: str) -> Iterator[httpx.Client]:
    clear_counters(redis_url)
    with httpx.Client(base_url=costly_url, timeout=60.0) as http:
        yield http
    clear_counters(redis_url)


def test_speech_is_limited_per_user_across_its_routes(costly: httpx.Client, client: httpx.Client) -> None:
    first, second = users.signup(client), users.signup(client)
    tts = costly.post("/v1/tts", json={"text": "Hi.", "voice": "espeak"}, headers=first.headers)
    assert tts.status_code == 200, tts.text
    assert tts.headers["X-RateLimit-Limit"] == str(SPEECH)  # the tighter of the two rules is shown
    speech = {"model": "tts-1", "voice": "alloy", "input": "Hi.", "response_format": "wav"}
    assert costly.post("/v1/audio/speech", json=speech, headers=first.headers).status_code == 200
    files = {"audio": ("a.wav", b"not audio", "audio/wav")}
    assert costly.post("/v1/align", data={"transcript": "hi"}, files=files, headers=first.headers).status_code == 422
    assert_limited(costly.post("/v1/tts", json={"text": "Hi.", "voice": "espeak"}, headers=first.headers))
    assert_limited(costly.post("/v1/audio/speech", json=speech, headers=first.headers))
    assert costly.post("/v1/tts", json={"text": "Hi.", "voice": "espeak"}, headers=second.headers).status_code == 200


def test_tts_stream_messages_are_limited(costly_url: str, costly: httpx.Client, client: httpx.Client) -> None:
    speaker = users.signup(client)
    url = ws_url(costly_url, access_token=speaker.access_token, voice="espeak")
    with connect(url, open_timeout=10) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "ready"
        for _ in range(STREAM_MESSAGES):  # a burst of pieces within the limit is spoken
            socket.send(json.dumps({"type": "text", "text": "word "}))
        socket.send(json.dumps({"type": "flush"}))  # one too many
        error = None
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                message = socket.recv(timeout=30)
                if isinstance(message, str) and json.loads(message)["type"] == "error":
                    error = json.loads(message)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
    assert error is not None and error["code"] == "rate_limited" and "TTS stream messages" in error["message"]


def test_a_websocket_connection_counts_as_a_speech_request(
    costly_url: str, costly: httpx.Client, client: httpx.Client
) -> None:
    speaker = users.signup(client)
    url = ws_url(costly_url, access_token=speaker.access_token, voice="espeak")
    for _ in range(SPEECH):
        with connect(url, open_timeout=10) as socket:
            assert json.loads(socket.recv(timeout=10))["type"] == "ready"
    with connect(url, open_timeout=10) as socket, pytest.raises(ConnectionClosed) as closed:
        error = json.loads(socket.recv(timeout=10))
        socket.recv(timeout=10)
    assert error["type"] == "error" and error["code"] == "rate_limited"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429


def test_signed_downloads_are_limited_per_ip(costly: httpx.Client, platform_settings: Settings) -> None:
    key = "users/00000000-0000-0000-0000-0000000000aa/videos/x/r1/video.mp4"
    asyncio.run(LocalStorage(platform_settings.storage_dir).put_bytes(key, b"0123456789", "video/mp4"))
    path = httpx.URL(signed_url(platform_settings, key)[0]).raw_path.decode()
    for index in range(FILES):  # a player's range requests, within the limit
        assert costly.get(path, headers={"Range": f"bytes={index}-"}).status_code == 206
    assert_limited(costly.get(path))
    assert_limited(costly.get("/v1/files/forged?expires=1&sig=00"))  # forgeries count too
