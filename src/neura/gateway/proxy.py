"""Forwarding requests to the process that does the work: a live session's owner (any role), and, in the
``api`` role, every media route (speech, avatars, live sessions) to a media process from the registry.

The caller's own credentials travel with the request, so the media process authenticates, rate-limits
and charges exactly as it would for a direct request; the answer comes back unchanged. A media process
that cannot be reached before it answered is tried no further: ``LiveRoutingError`` (502), or for a
request that has not started anywhere yet the caller picks another target (:func:`forward`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from neura.errors import NeuraError
from neura.gateway.client_address import CLIENT_HEADER, client_header, client_ip

FORWARDED_HEADER = "x-neura-live-forwarded"  # set on requests one process forwards to another
TIMEOUT_S = 60.0
_HOP_BY_HOP = {
    "x-forwarded-host",  # replaced (_forwarding_headers)
    CLIENT_HEADER,
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",  # httpx hands over the decoded body
    "date",  # the answering server adds its own
    "server",
}
_WS_HEADERS = ("authorization", "x-api-key", "cookie", "x-request-id", "x-forwarded-proto")


class UpstreamUnreachableError(NeuraError):
    """The process a request was forwarded to did not take the connection (nothing was sent to it)."""

    http_status = 502
    exit_code = 69


def _passed(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]


def _forwarding_headers(request: Request | WebSocket, via: str, secret: str) -> list[tuple[str, str]]:
    """What a forwarded request adds: the original host, this process, the caller's address (signed)."""
    return [
        ("x-forwarded-host", request.headers.get("x-forwarded-host") or request.headers.get("host", "")),
        (FORWARDED_HEADER, via),
        (CLIENT_HEADER, client_header(secret, client_ip(request))),
    ]


KEEPALIVE_S = 2.0
"""How long an idle pooled connection is reused: well under uvicorn's own 5 s, so this side never writes
a request into a connection that the other side is closing as idle."""
_IDEMPOTENT = {"GET", "HEAD", "OPTIONS"}


def new_client() -> httpx.AsyncClient:
    """The connection pool a process forwards with (one per process: a handshake per request costs)."""
    return httpx.AsyncClient(timeout=TIMEOUT_S, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S))


async def forward(request: Request, base_url: str, *, via: str, secret: str) -> Response:
    """The same request, answered by the process at ``base_url`` (through the app state's ``http`` pool).
    Raises UpstreamUnreachableError when the connection is refused (the request never reached it: safe
    to send elsewhere)."""
    client: httpx.AsyncClient = request.app.state.neura.http
    headers = _passed(request.headers.items()) + _forwarding_headers(request, via, secret)
    url = base_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    body = await request.body()
    try:
        try:
            answer = await client.request(request.method, url, content=body, headers=headers)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            if request.method not in _IDEMPOTENT:
                raise
            answer = await client.request(request.method, url, content=body, headers=headers)  # a stale connection
    except httpx.ConnectError as exc:
        raise UpstreamUnreachableError(
            f"{base_url} does not take connections", hint="retry: another process takes the request"
        ) from exc
    response = Response(content=answer.content, status_code=answer.status_code)
    for name, value in _passed(answer.headers.multi_items()):
        response.headers.append(name, value)
    return response


async def forward_websocket(websocket: WebSocket, base_url: str, *, via: str, secret: str) -> None:
    """Relay a WebSocket to the same path of the process at ``base_url``, both ways, until either side
    closes (its close code passed on: 4401, 4429, ...)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    target = base_url.replace("http", "ws", 1).rstrip("/") + websocket.url.path
    if websocket.url.query:
        target += f"?{websocket.url.query}"
    headers = [(k, v) for k, v in websocket.headers.items() if k.lower() in _WS_HEADERS]
    headers += _forwarding_headers(websocket, via, secret)
    origin = websocket.headers.get("origin")
    try:
        upstream = await connect(target, additional_headers=headers, origin=origin, open_timeout=10)  # type: ignore[arg-type]
    except (OSError, InvalidHandshake, TimeoutError):
        await websocket.close(code=1013)  # try again later
        return
    await websocket.accept()

    async def downstream() -> None:
        async for message in upstream:
            if isinstance(message, bytes):
                await websocket.send_bytes(message)
            else:
                await websocket.send_text(message)

    async def upstream_pump() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data: str | bytes | None = message.get("bytes")
            await upstream.send(data if data is not None else message.get("text") or "")

    pumps = [asyncio.create_task(downstream()), asyncio.create_task(upstream_pump())]
    try:
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        code = upstream.close_code or 1000
        await upstream.close()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, ConnectionClosed):
            await websocket.close(code=code, reason=upstream.close_reason or "")
