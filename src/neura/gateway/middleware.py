"""ASGI middleware: request ids, structured access logs, latency metrics, body-size and header limits."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neura.gateway.errors import error_payload
from neura.metrics import REQUEST_LATENCY

access_log = logging.getLogger("neura.access")


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID``, taken from the client when sane), logs one JSON line
    per request and records its latency under the route's template (not the raw path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUEST_LATENCY.labels(scope["method"], template, str(status)).observe(elapsed)
            record: dict[str, Any] = {
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "route": template,
                "status": status,
                "ms": round(elapsed * 1000, 2),
            }
            access_log.info(json.dumps(record))


class BodySizeLimitMiddleware:
    """Refuses bodies over ``max_bytes`` (413) before they are read into memory. Upload routes may
    allow more (``large_paths``); the declared Content-Length and the bytes actually sent are checked."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, large_paths: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.large_paths = large_paths or {}

    def _limit(self, path: str) -> int:
        for prefix, limit in self.large_paths.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await _too_large(scope, send, limit)


class _TooLarge(HTTPException):
    """An HTTPException so that FastAPI's body parsing lets it through as 413 (it turns any other
    exception raised while reading the body into a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    await _send_error(
        scope,
        send,
        413,
        "payload_too_large",
        f"the request body is larger than {limit} bytes",
        "send a smaller body (photos and recordings: at most MAX_UPLOAD_BYTES)",
    )


async def _send_error(scope: Scope, send: Send, status: int, code: str, message: str, hint: str) -> None:
    """An error answered by middleware, before any route: the same JSON body as every other error."""
    request_id = scope.get("state", {}).get("request_id")
    body = json.dumps(error_payload(code, message, hint, request_id)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HeaderLimitMiddleware:
    """431 for a request with more than ``max_count`` headers, one longer than ``max_value_bytes`` (name
    and value), or more than ``max_total_bytes`` of them. ``neura serve``'s protocol already refuses an
    oversized head while it arrives (:mod:`neura.gateway.server`); this holds under any ASGI server. A
    WebSocket handshake over the limits is refused (403)."""

    def __init__(self, app: ASGIApp, *, max_total_bytes: int, max_value_bytes: int, max_count: int) -> None:
        self.app = app
        self.max_total_bytes = max_total_bytes
        self.max_value_bytes = max_value_bytes
        self.max_count = max_count

    def _problem(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        if len(headers) > self.max_count:
            return f"the request has {len(headers)} headers; at most {self.max_count} are accepted"
        total = 0
        for name, value in headers:
            size = len(name) + len(value)
            if size > self.max_value_bytes:
                shown = name.decode("latin-1")[:40]
                return f"the {shown} header is {size} bytes long; at most {self.max_value_bytes} are accepted"
            total += size + 4  # ": " and CRLF
        if total > self.max_total_bytes:
            return f"the headers are {total} bytes long; at most {self.max_total_bytes} are accepted"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = self._problem(scope["headers"])
        if problem is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "request headers too large"})
        else:
            hint = "send fewer or shorter headers (cookies included)"
            await _send_error(scope, send, 431, "header_fields_too_large", problem, hint)
