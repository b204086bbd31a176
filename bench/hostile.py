"""Hand-written hostile inputs for ``bench/fuzz.py``: each must get the status it names and NEURA's
JSON error body (``error.code``, ``error.message``, ``error.hint``), never a 5xx or a dropped connection.

The inputs: NUL and lone surrogates in every kind of field that reaches PostgreSQL (JSON, query,
form), huge numbers, deep JSON, wrong content types, invalid UTF-8, broken multipart bodies, oversized,
duplicated and non-ASCII headers, non-ASCII path parameters, hostile Range headers, forged download
signatures, webhook targets in private and metadata ranges, and WebSocket messages of the same kinds.
Only the gateway on 127.0.0.1 is contacted; a webhook target is refused without being connected to.
"""

# ruff: noqa: E501  (the table of cases below is one case a line: raw requests do not wrap readably)

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import websockets

PASSWORD = "correct horse battery staple"
NUL = "\u0000"
SURROGATE = "\\ud800"  # a lone surrogate, as JSON writes it (json.dumps cannot produce one from str safely)


@dataclass(frozen=True)
class Outcome:
    name: str
    expected: str
    got: str
    ok: bool


@dataclass
class Context:
    url: str
    http: httpx.AsyncClient
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        assert parts.hostname is not None and parts.port is not None
        return parts.hostname, parts.port


Probe = Callable[[Context], Awaitable[str]]  # the status (or "dropped", "close <code>") it got


def _error_shape(response: httpx.Response) -> str:
    """'' when the body is NEURA's error shape; otherwise what is wrong with it."""
    try:
        body = response.json()
    except ValueError:
        return " (body is not JSON)"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not error.get("code") or not error.get("message") or "hint" not in error:
        return f" (body is not the error shape: {str(body)[:120]})"
    return ""


def _status(response: httpx.Response) -> str:
    return f"{response.status_code}{_error_shape(response) if response.status_code >= 400 else ''}"


def _json_raw(fields: dict[str, str]) -> bytes:
    """A JSON object whose string values are written as given (so "\\ud800" stays a lone surrogate escape)."""
    return ("{" + ",".join(f'"{k}":"{v}"' for k, v in fields.items()) + "}").encode()


def post_json(path: str, body: object, *, auth: bool = True) -> Probe:
    async def send(ctx: Context) -> str:
        headers = ctx.auth if auth else {}
        return _status(await ctx.http.post(path, json=body, headers=headers))

    return send


def post_raw(path: str, body: bytes, content_type: str = "application/json", *, auth: bool = True) -> Probe:
    async def send(ctx: Context) -> str:
        headers = {**(ctx.auth if auth else {}), "Content-Type": content_type}
        return _status(await ctx.http.post(path, content=body, headers=headers))

    return send


def get(path: str, headers: dict[str, str] | None = None, *, auth: bool = True) -> Probe:
    async def send(ctx: Context) -> str:
        return _status(await ctx.http.get(path, headers={**(ctx.auth if auth else {}), **(headers or {})}))

    return send


def raw_request(head: bytes, body: bytes = b"", *, read_timeout_s: float = 20.0) -> Probe:
    """Bytes written straight to the socket (headers httpx would refuse to send)."""

    async def send(ctx: Context) -> str:
        host, port = ctx.host_port
        reader, writer = await asyncio.open_connection(host, port)
        try:
            with contextlib.suppress(ConnectionError):
                writer.write(head.replace(b"{token}", ctx.token.encode()) + body)
                await writer.drain()
            try:
                data = await asyncio.wait_for(_read_response(reader), read_timeout_s)
            except (ConnectionError, TimeoutError):
                return "dropped"
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        if not data:
            return "dropped"
        status_line, _, rest = data.partition(b"\r\n")
        parts = status_line.split()
        if len(parts) < 2:
            return "dropped"
        status = parts[1].decode("latin-1")
        _, _, payload = rest.partition(b"\r\n\r\n")
        if int(status) >= 400:
            try:
                error = json.loads(payload)["error"]
                if "hint" not in error or not error.get("code"):
                    return f"{status} (body is not the error shape)"
            except (ValueError, KeyError, TypeError):
                return f"{status} (body is not JSON: {payload[:80]!r})"
        return status

    return send


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    """One response: its head, then Content-Length bytes of body (or up to the connection's end)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await reader.read(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        None,
    )
    while length is not None and len(body) < length:
        chunk = await reader.read(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def head_with(extra: bytes, path: bytes = b"/v1/me") -> bytes:
    return b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n" + extra + b"\r\n"


def ws_messages(path: str, messages: list[str]) -> Probe:
    """Open a WebSocket with the token in the query, send ``messages``; the close code it ends with."""

    async def send(ctx: Context) -> str:
        url = ctx.url.replace("http://", "ws://") + path + ("&" if "?" in path else "?") + f"access_token={ctx.token}"
        try:
            async with websockets.connect(url, open_timeout=20, close_timeout=5) as ws:
                for message in messages:
                    await ws.send(message)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else "none"
            return f"close {code}"
        except (OSError, TimeoutError, websockets.InvalidStatus) as exc:
            return f"dropped ({type(exc).__name__})"
        return "open"

    return send


def cursor(created: str) -> str:
    raw = json.dumps([created, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def multipart(boundary: str, parts: list[tuple[str, str | None, bytes]]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def _wav(seconds: float = 0.5) -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x10" * int(16000 * seconds))
    return buffer.getvalue()


def cases() -> list[tuple[str, Probe, set[str]]]:
    """(name, probe, accepted answers)."""
    nul_email = f"probe{NUL}@example.com"
    ok_email = f"probe-{uuid.uuid4().hex[:8]}@example.com"
    boundary = "probeboundary"
    wav = _wav()
    return [
        # --- NUL and lone surrogates in JSON fields that reach PostgreSQL
        ("signup email NUL", post_json("/v1/auth/signup", {"email": nul_email, "password": PASSWORD}, auth=False), {"422"}),
        ("signup email surrogate", post_raw("/v1/auth/signup", _json_raw({"email": f"a{SURROGATE}@example.com", "password": PASSWORD}), auth=False), {"422"}),
        ("signup password NUL", post_json("/v1/auth/signup", {"email": ok_email, "password": PASSWORD + NUL}, auth=False), {"201", "422"}),
        ("login email NUL", post_json("/v1/auth/login", {"email": nul_email, "password": PASSWORD}, auth=False), {"401", "422"}),
        ("login email surrogate", post_raw("/v1/auth/login", _json_raw({"email": f"{SURROGATE}@x.io", "password": "x"}), auth=False), {"401", "422"}),
        ("refresh token NUL", post_json("/v1/auth/refresh", {"refresh_token": NUL}, auth=False), {"401", "422"}),
        ("api key name NUL", post_json("/v1/api-keys", {"name": f"key{NUL}"}), {"422"}),
        ("api key name surrogate", post_raw("/v1/api-keys", _json_raw({"name": f"k{SURROGATE}"})), {"422"}),
        ("video script NUL", post_json("/v1/videos", {"script": f"Hello{NUL} world."}), {"422"}),
        ("video prompt NUL", post_json("/v1/videos", {"prompt": f"Explain{NUL}"}), {"422"}),
        ("video script surrogate", post_raw("/v1/videos", _json_raw({"script": f"Hello {SURROGATE} world."})), {"422"}),
        ("video idempotency key non-ASCII", raw_request(b"POST /v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nIdempotency-Key: \xe9\xff\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n", b'{"script": "Hello."}  '), {"422"}),
        ("live persona NUL", post_json("/v1/live/sessions", {"persona": f"a{NUL}b"}), {"422"}),
        ("live voice surrogate", post_raw("/v1/live/sessions", _json_raw({"voice": f"p{SURROGATE}"})), {"422"}),
        ("webhook url NUL", post_json("/v1/webhooks", {"url": f"https://example.com/{NUL}"}), {"422"}),
        ("webhook url surrogate", post_raw("/v1/webhooks", _json_raw({"url": f"https://ex{SURROGATE}.com/x"})), {"422"}),
        ("tts text NUL", post_json("/v1/tts", {"text": f"Hello{NUL} there."}), {"422"}),
        ("tts text surrogate", post_raw("/v1/tts", _json_raw({"text": f"Hello {SURROGATE} there."})), {"422"}),
        ("tts voice NUL", post_json("/v1/tts", {"text": "Hello.", "voice": f"piper{NUL}"}), {"422"}),
        ("speech input surrogate", post_raw("/v1/audio/speech", _json_raw({"model": "tts-1", "voice": "alloy", "input": f"Hi {SURROGATE}."})), {"422"}),
        ("speech model NUL", post_json("/v1/audio/speech", {"model": f"tts-1{NUL}", "voice": "alloy", "input": "Hi."}), {"422"}),
        # --- query and path parameters
        ("videos cursor NUL", get("/v1/videos?cursor=%00"), {"422"}),
        ("videos cursor year 1 +14:00", get(f"/v1/videos?cursor={cursor('0001-01-01T00:00:00+14:00')}"), {"422"}),
        ("videos cursor year 9999 -14:00", get(f"/v1/videos?cursor={cursor('9999-12-31T23:59:59-14:00')}"), {"200", "422"}),
        ("videos cursor invalid UTF-8", get("/v1/videos?cursor=%ff%fe"), {"422"}),
        ("videos status NUL", get("/v1/videos?status=%00"), {"422"}),
        ("videos limit huge", get("/v1/videos?limit=99999999999999999999999999999"), {"422"}),
        ("avatars offset huge", get("/v1/avatars?offset=1e400"), {"422"}),
        ("video id non-ASCII", get("/v1/videos/%C3%A9"), {"422", "404"}),
        ("video id NUL", get("/v1/videos/%00"), {"422", "404"}),
        ("download kind NUL", get(f"/v1/videos/{uuid.uuid4()}/download?kind=%00"), {"422"}),
        ("tts stream voice NUL (HTTP)", get("/v1/tts/stream?voice=%00"), {"426"}),
        # --- signed downloads
        ("files sig non-ASCII", get("/v1/files/users/x/a.mp4?expires=9999999999&sig=%C3%A9", auth=False), {"403"}),
        ("files sig NUL", get("/v1/files/users/x/a.mp4?expires=9999999999&sig=%00", auth=False), {"403", "422"}),
        ("files sig surrogate-ish", get("/v1/files/users/x/a.mp4?expires=9999999999&sig=%ED%A0%80", auth=False), {"403"}),
        ("files expires huge", get("/v1/files/a?expires=999999999999999999999999999&sig=ab", auth=False), {"403", "422"}),
        ("files key NUL", get("/v1/files/%00?expires=9999999999&sig=ab", auth=False), {"403", "404", "422"}),
        ("files key traversal", get("/v1/files/..%2F..%2Fetc%2Fpasswd?expires=9999999999&sig=ab", auth=False), {"403", "404"}),
        ("files sig latin-1 raw", raw_request(b"GET /v1/files/a?expires=9999999999&sig=\xe9\xe9 HTTP/1.1\r\nHost: x\r\n\r\n"), {"400", "403"}),
        # --- numbers and JSON shapes
        ("video duration 1e400", post_raw("/v1/videos", b'{"prompt": "x", "duration_s": 1e400}'), {"422"}),
        ("video duration NaN", post_raw("/v1/videos", b'{"prompt": "x", "duration_s": NaN}'), {"400", "422"}),
        ("tts sample rate 10**400", post_raw("/v1/tts", b'{"text": "Hi.", "sample_rate_hz": 1' + b"0" * 400 + b"}"), {"422"}),
        ("tts body a bare number", post_raw("/v1/tts", b"1" * 5000), {"400", "422"}),
        ("deep JSON array", post_raw("/v1/tts", b"[" * 100_000 + b"]" * 100_000), {"400", "413", "422"}),
        ("deep JSON object", post_raw("/v1/api-keys", b'{"a":' * 50_000 + b"1" + b"}" * 50_000), {"400", "413", "422"}),
        ("JSON invalid UTF-8", post_raw("/v1/api-keys", b'{"name": "\xff\xfe"}'), {"400", "422"}),
        ("JSON lone surrogate key", post_raw("/v1/api-keys", b'{"\\udc00": 1, "name": "x"}'), {"201", "422"}),
        ("JSON 10 MB string", post_raw("/v1/api-keys", b'{"name": "' + b"a" * 10_000_000 + b'"}'), {"413"}),
        # --- content types
        ("JSON route with text/plain", post_raw("/v1/api-keys", b'{"name": "x"}', "text/plain"), {"415", "422"}),
        ("JSON route with a form", post_raw("/v1/api-keys", b"name=x", "application/x-www-form-urlencoded"), {"415", "422"}),
        ("JSON route with multipart", post_raw("/v1/api-keys", multipart(boundary, [("name", None, b"x")]), f"multipart/form-data; boundary={boundary}"), {"415", "422"}),
        ("form route with JSON", post_raw("/v1/avatars", b'{"file": "x"}'), {"415", "422"}),
        ("multipart without boundary", post_raw("/v1/avatars", b"--x\r\n", "multipart/form-data"), {"400", "415", "422"}),
        ("multipart truncated", post_raw("/v1/avatars", b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n\xff\xd8\xff', "multipart/form-data; boundary=b"), {"400", "415", "422"}),
        ("multipart garbage", post_raw("/v1/align", b"\x00\xff" * 1000, "multipart/form-data; boundary=zz"), {"400", "422"}),
        ("multipart 2000 fields", post_raw("/v1/align", multipart(boundary, [(f"f{i}", None, b"x") for i in range(2000)]), f"multipart/form-data; boundary={boundary}"), {"400", "413", "422"}),
        ("multipart bad header encoding", post_raw("/v1/avatars", b'--b\r\nContent-Disposition: form-data; name="file"; filename="\xff\xfe.jpg"\r\n\r\n\xff\xd8\xff\xe0\r\n--b--\r\n', "multipart/form-data; boundary=b"), {"400", "415", "422"}),
        ("avatar name NUL", post_raw("/v1/avatars", multipart(boundary, [("name", None, b"a\x00b"), ("file", "a.jpg", b"\xff\xd8\xff")]), f"multipart/form-data; boundary={boundary}"), {"422"}),
        ("avatar truncated JPEG", post_raw("/v1/avatars", multipart(boundary, [("file", "a.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 50)]), f"multipart/form-data; boundary={boundary}"), {"422"}),
        ("align transcript NUL", post_raw("/v1/align", multipart(boundary, [("transcript", None, b"hello\x00world"), ("audio", "a.wav", wav)]), f"multipart/form-data; boundary={boundary}"), {"422"}),
        ("align transcript invalid UTF-8", post_raw("/v1/align", multipart(boundary, [("transcript", None, b"hello \xff\xfe"), ("audio", "a.wav", wav)]), f"multipart/form-data; boundary={boundary}"), {"400", "422"}),
        ("align truncated WAV", post_raw("/v1/align", multipart(boundary, [("transcript", None, b"hello"), ("audio", "a.wav", wav[:60])]), f"multipart/form-data; boundary={boundary}"), {"422"}),
        # --- headers
        ("header 100 KB", raw_request(head_with(b"X-Big: " + b"a" * 100_000 + b"\r\n")), {"431"}),
        ("header 16 MB", raw_request(head_with(b"X-Big: " + b"a" * 16_000_000 + b"\r\n")), {"431", "dropped"}),
        ("500 headers", raw_request(head_with(b"".join(b"X-H%d: v\r\n" % i for i in range(500)))), {"431"}),
        ("duplicate Authorization", raw_request(head_with(b"Authorization: Bearer other\r\n")), {"200", "400", "401"}),
        ("duplicate Content-Length", raw_request(b"POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 13\r\nContent-Length: 5\r\n\r\n", b'{"name": "x"}'), {"400", "dropped"}),
        ("Content-Length and chunked", raw_request(b"POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n", b'd\r\n{"name": "x"}\r\n0\r\n\r\n'), {"201", "400", "dropped"}),
        ("Authorization latin-1", raw_request(head_with(b"", b"/v1/me").replace(b"Bearer {token}", b"Bearer \xe9\xe9")), {"401"}),
        ("X-API-Key latin-1", raw_request(b"GET /v1/me HTTP/1.1\r\nHost: x\r\nX-API-Key: nk_\xe9\xff\r\n\r\n"), {"401"}),
        ("X-Request-ID latin-1", raw_request(head_with(b"X-Request-ID: \xe9\xff\r\n")), {"200"}),
        ("Range latin-1", raw_request(b"GET /v1/files/a?expires=9999999999&sig=ab HTTP/1.1\r\nHost: x\r\nRange: bytes=\xe9-\r\n\r\n"), {"403", "416"}),
        ("Accept latin-1 on tts", raw_request(b"POST /v1/tts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nAccept: audio/\xe9\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n", b'{"text": "Hi."}'), {"200", "422"}),
        ("Content-Type latin-1", raw_request(b"POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/\xe9\r\nContent-Length: 13\r\n\r\n", b'{"name": "x"}'), {"415", "422"}),
        ("Content-Length negative", raw_request(b"POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), {"400", "dropped"}),
        ("Content-Length huge", raw_request(b"POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 99999999999999999999\r\n\r\n"), {"413", "400"}),
        ("unknown method", raw_request(b"BREW /v1/me HTTP/1.1\r\nHost: x\r\n\r\n"), {"405", "400"}),
        # --- webhooks to places NEURA must never call (refused before any connection)
        ("webhook metadata IPv4", post_json("/v1/webhooks", {"url": "http://169.254.169.254/latest/meta-data"}), {"422"}),
        ("webhook metadata IPv6", post_json("/v1/webhooks", {"url": "http://[fd00:ec2::254]/"}), {"422"}),
        ("webhook metadata name", post_json("/v1/webhooks", {"url": "http://metadata.google.internal/computeMetadata/v1/"}), {"422"}),
        ("webhook link-local", post_json("/v1/webhooks", {"url": "http://169.254.1.1/"}), {"422"}),
        ("webhook private 10/8", post_json("/v1/webhooks", {"url": "http://10.1.2.3/"}), {"422"}),
        ("webhook CGNAT", post_json("/v1/webhooks", {"url": "http://100.64.0.1/"}), {"422"}),
        ("webhook loopback", post_json("/v1/webhooks", {"url": "http://127.0.0.1:9/"}), {"422"}),
        ("webhook IPv4-mapped loopback", post_json("/v1/webhooks", {"url": "http://[::ffff:127.0.0.1]/"}), {"422"}),
        ("webhook decimal IP", post_json("/v1/webhooks", {"url": "http://2130706433/"}), {"422"}),
        ("webhook unspecified", post_json("/v1/webhooks", {"url": "http://0.0.0.0/"}), {"422"}),
        # --- WebSockets
        ("tts stream NUL text", ws_messages("/v1/tts/stream", [json.dumps({"type": "text", "text": "Hi\u0000."}), '{"type": "end"}']), {"close 1008", "close 4422"}),
        ("tts stream surrogate text", ws_messages("/v1/tts/stream", ['{"type": "text", "text": "Hi \\ud800 there."}', '{"type": "end"}']), {"close 1008", "close 4422"}),
        ("tts stream deep JSON", ws_messages("/v1/tts/stream", ["[" * 19_000 + "]" * 19_000]), {"close 1008", "close 1009", "close 4413", "close 4422"}),
        ("tts stream voice surrogate", ws_messages("/v1/tts/stream?voice=%ED%A0%80", []), {"close 1008", "close 4422"}),
        ("events ws bad id", ws_messages(f"/v1/videos/{uuid.uuid4()}/events/ws", []), {"close 4404"}),
    ]  # fmt: skip


async def run_hostile(url: str, token: str, budget_s: float) -> list[Outcome]:
    deadline = time.monotonic() + budget_s
    outcomes = []
    # no keep-alive: a request that made the server drop its connection must not fail the next one
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as http:
        ctx = Context(url, http, token)
        for name, probe, accepted in cases():
            if time.monotonic() > deadline:
                outcomes.append(Outcome(name, "/".join(sorted(accepted)), "not sent (time budget)", False))
                continue
            try:
                got = await probe(ctx)
            except httpx.HTTPError as exc:
                got = f"dropped ({type(exc).__name__})"
            outcomes.append(Outcome(name, "/".join(sorted(accepted)), got, got in accepted))
    return outcomes
