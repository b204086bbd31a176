"""Request heads of bounded size and JSON bodies on every error, over real HTTP: a 16 MB or 100 KB
header, hundreds of headers and malformed requests get 431 / 400 with NEURA's error body, under both of
uvicorn's HTTP/1.1 parsers (httptools, the default, and h11)."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from neura.config import Settings
from neura.gateway.server import uvicorn_options
from tests.platform import users
from tests.servers import serve_in_thread

PROTOCOLS = ["neura.gateway.server:HttpToolsServer", "neura.gateway.server:H11Server"]


def exchange(url: str, data: bytes, timeout_s: float = 20.0) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as it is (the server may answer and close before taking it all); the answer's
    status, headers and body."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout_s) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while not _complete(answer) and (chunk := sock.recv(65536)):  # the gateway keeps the connection
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines if ": " in line)
    return int(status_line.split()[1]), headers, body


def _complete(answer: bytes) -> bool:
    """Whether ``answer`` holds a whole response: its head, and as many body bytes as its Content-Length."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return len(body) >= int(value.strip())
    return False  # no length: the body ends when the server closes


def get_me(token: str, extra: bytes = b"") -> bytes:
    return b"GET /v1/me HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + token.encode() + b"\r\n" + extra + b"\r\n"


def assert_error(status: int, body: bytes, expected: int, code: str) -> None:
    assert status == expected, body[:300]
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"] and error["hint"], error


@pytest.fixture(scope="module")
def token(gateway_url: str) -> str:
    with httpx.Client(base_url=gateway_url, timeout=30.0) as http:
        return users.signup(http).access_token


@pytest.fixture(scope="module", params=PROTOCOLS, ids=["httptools", "h11"])
def bare_server(request: pytest.FixtureRequest, platform_settings: Settings) -> Iterator[str]:
    """A tiny ASGI app (no database) under the gateway's protocol: what the protocol itself does."""

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] != "http":
            return  # the lifespan: nothing to start
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    options = uvicorn_options(platform_settings, protocol=request.param)
    with serve_in_thread(app, **options) as url:
        yield url


@pytest.mark.parametrize("size", [100_000, 16_000_000], ids=["100KB", "16MB"])
def test_a_huge_header_is_431_before_it_is_read(bare_server: str, size: int) -> None:
    status, headers, body = exchange(bare_server, get_me("t", b"X-Big: " + b"a" * size + b"\r\n"))
    assert_error(status, body, 431, "header_fields_too_large")
    assert headers["connection"] == "close"


def test_a_head_split_over_many_packets_is_counted_whole(bare_server: str, platform_settings: Settings) -> None:
    parts = urlsplit(bare_server)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
        with contextlib.suppress(OSError):
            for index in range(platform_settings.max_header_bytes // 1000 + 2):
                sock.sendall(b"X-%d: " % index + b"b" * 1000 + b"\r\n")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]


def test_keep_alive_requests_each_get_the_whole_allowance(bare_server: str, platform_settings: Settings) -> None:
    header = b"X-Fill: " + b"c" * (platform_settings.max_header_value_bytes - 100) + b"\r\n"
    one = b"GET / HTTP/1.1\r\nHost: t\r\n" + header * 3 + b"\r\n"  # well under the total, three times over
    parts = urlsplit(bare_server)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        for _ in range(int(3 * platform_settings.max_header_bytes / len(one)) + 2):
            sock.sendall(one)
            answer = sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:100]


def test_an_idle_kept_alive_connection_outlives_a_client_pools_idle_timeout(bare_server: str) -> None:
    """Node's HTTP agents (the web app's proxy) drop idle connections after 5 s; uvicorn's own default also
    closed them at 5 s, so a request sent on one at that moment hit a closing socket ("socket hang up",
    a 500 in the browser). The gateway keeps them longer, so the client's pool always closes first."""
    request = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    parts = urlsplit(bare_server)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(request)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(5.5)
        sock.sendall(request)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")


def test_a_body_is_not_counted_as_a_head(bare_server: str) -> None:
    """Neither a body far over the head cap, nor one whose end arrives in the same read as the next
    request (the app answered before reading it)."""
    body = b"x" * 300_000
    head = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body)
    parts = urlsplit(bare_server)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(head + body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(head + body[:1000])  # answered before its body is read ...
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(body[1000:] + head + body)  # ... whose end comes with the next request and its body
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nBad Header Name: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not HTTP at all\r\n\r\n",
    ],
    ids=["two-content-lengths", "negative-length", "space-in-name", "tls-on-plain-port"],
)
def test_a_malformed_request_is_400_with_the_error_body(bare_server: str, request_bytes: bytes) -> None:
    status, _, body = exchange(bare_server, request_bytes)
    assert_error(status, body, 400, "bad_request")


# --- the gateway itself (header count and per-header caps are checked on the parsed headers)


def test_the_gateway_refuses_huge_heads_with_431(gateway_url: str, token: str) -> None:
    for size in (100_000, 16_000_000):
        status, _, body = exchange(gateway_url, get_me(token, b"X-Big: " + b"a" * size + b"\r\n"))
        assert_error(status, body, 431, "header_fields_too_large")


def test_too_many_headers_or_one_too_long_is_431(gateway_url: str, token: str, platform_settings: Settings) -> None:
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(platform_settings.max_header_count + 1))
    status, _, body = exchange(gateway_url, get_me(token, many))
    assert_error(status, body, 431, "header_fields_too_large")
    assert b"headers; at most" in body
    long_one = b"Cookie: " + b"k=v; " * (platform_settings.max_header_value_bytes // 5 + 1) + b"\r\n"
    status, _, body = exchange(gateway_url, get_me(token, long_one))
    assert_error(status, body, 431, "header_fields_too_large")
    assert b"cookie header is" in body


def test_headers_within_the_limits_pass(gateway_url: str, token: str, platform_settings: Settings) -> None:
    cookie = b"Cookie: " + b"k=v; " * ((platform_settings.max_header_value_bytes - 100) // 5) + b"\r\n"
    several = b"".join(b"X-H%d: v\r\n" % i for i in range(platform_settings.max_header_count - 10))
    status, _, body = exchange(gateway_url, get_me(token, cookie + several + b"Connection: close\r\n"))
    assert status == 200, body[:300]


def test_a_websocket_with_too_many_headers_is_refused(
    gateway_url: str, token: str, platform_settings: Settings
) -> None:
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(platform_settings.max_header_count + 1))
    handshake = (
        b"GET /v1/tts/stream?access_token=" + token.encode() + b" HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    )
    status, _, _ = exchange(gateway_url, handshake + many + b"\r\n")
    assert status == 403


def test_every_starlette_error_has_a_hint(client: httpx.Client, token: str) -> None:
    for response in (
        client.get("/v1/no-such-route"),
        client.request("PATCH", "/v1/me", headers={"Authorization": f"Bearer {token}"}),
        client.post("/v1/api-keys", content=b"{", headers={"Authorization": f"Bearer {token}"}),
    ):
        assert response.status_code in (400, 404, 405, 415, 422), response.text
        error = response.json()["error"]
        assert error["hint"], response.text


def test_the_413_has_a_hint(client: httpx.Client, token: str, platform_settings: Settings) -> None:
    big = b'{"name": "' + b"a" * (platform_settings.max_body_bytes + 1) + b'"}'
    response = client.post(
        "/v1/api-keys", content=big, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and error["hint"]


def test_a_body_refused_early_is_still_answered(client: httpx.Client, token: str) -> None:
    """The 413 goes out before the 10 MB are read; the rest is read and dropped, not taken for a head."""
    big = b'{"name": "' + b"a" * 10_000_000 + b'"}'
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = client.post("/v1/api-keys", content=big, headers=headers)
    assert response.status_code == 413, response.text
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
