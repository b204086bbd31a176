"""How ``neura serve`` runs the gateway under uvicorn: request heads of bounded size, and NEURA's JSON
error body on the answers uvicorn itself gives (a malformed request, a head that is too large).

uvicorn's parsers bound nothing by default with httptools (a 16 MB header was accepted) and answer a
plain-text 400 with h11. :class:`HttpToolsServer` and :class:`H11Server` count a request's head
(request line and headers) as its bytes arrive, before the parser buffers them, and answer 431 once it
passes ``MAX_HEADER_BYTES``; the per-header and header-count caps are checked on the parsed headers by
``HeaderLimitMiddleware``. uvicorn reads the head cap from ``h11_max_incomplete_event_size``, the option
it already has for it (so h11 enforces it too).
"""

from __future__ import annotations

import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from neura.config import Settings
from neura.gateway.errors import error_payload

HEAD_END = b"\r\n\r\n"


def http_response(status: int, reason: str, code: str, message: str, hint: str) -> bytes:
    """A complete ``Connection: close`` response with NEURA's JSON error body."""
    body = json.dumps(error_payload(code, message, hint, None)).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    return head + body


class _HeadLimit:
    """Mixed into a uvicorn HTTP protocol: counts each request's head as it arrives (431 past the cap)
    and answers uvicorn's own 400s with a JSON body."""

    config: Any
    transport: Any
    logger: Any

    def _reset_head(self) -> None:
        self._head_bytes = 0
        self._head_tail = b""  # the last bytes seen, for a head end split across two reads

    def _waiting_for_head(self) -> bool:
        """Whether the next bytes belong to a request head (the parser's own state says so)."""
        raise NotImplementedError

    def data_received(self, data: bytes) -> None:
        if not hasattr(self, "_head_bytes"):
            self._reset_head()
        if self._waiting_for_head():
            window = self._head_tail + data
            end = window.find(HEAD_END)  # bytes after it are the body's (the body limit's business)
            self._head_bytes += len(data) if end < 0 else end + len(HEAD_END) - len(self._head_tail)
            limit = self.config.h11_max_incomplete_event_size
            if limit is not None and self._head_bytes > limit:
                self._refuse_head(limit)
                return
            self._head_tail = window[-(len(HEAD_END) - 1) :]
        super().data_received(data)  # type: ignore[misc]
        self._parsed()

    def _parsed(self) -> None:
        """After the parser has taken a read (h11 reports its state here)."""

    def _refuse_head(self, limit: int) -> None:
        self.logger.info("refused a request whose head is larger than %d bytes", limit)
        self.transport.write(
            http_response(
                431,
                "Request Header Fields Too Large",
                "header_fields_too_large",
                f"the request line and headers are larger than {limit} bytes",
                "send fewer or shorter headers (cookies included)",
            )
        )
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self.transport.write(
            http_response(
                400,
                "Bad Request",
                "bad_request",
                "the request is not valid HTTP/1.1",
                "check the request line, the header syntax and Content-Length / Transfer-Encoding",
            )
        )
        self.transport.close()


class H11Server(_HeadLimit, H11Protocol):
    """uvicorn's h11 protocol with NEURA's head cap and JSON errors."""

    _was_idle = True  # a connection starts with a head

    def _waiting_for_head(self) -> bool:
        idle = self.conn.their_state is h11.IDLE  # no request yet in this cycle: its head is arriving
        if idle and not self._was_idle:
            self._reset_head()  # a new cycle since the last read: a new head
        self._was_idle = idle
        return idle

    def _parsed(self) -> None:
        self._was_idle = self.conn.their_state is h11.IDLE


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional in uvicorn: h11 serves alone
    HTTP_PROTOCOL = "neura.gateway.server:H11Server"
else:

    class HttpToolsServer(_HeadLimit, HttpToolsProtocol):
        """uvicorn's httptools protocol (the faster parser, uvicorn's own default) with NEURA's head cap
        and JSON errors. The parser's callbacks say where a head starts and ends, also when one read
        carries the end of a body and the next request (a refused body is read to its end, not counted)."""

        _in_head = True  # a connection starts with a head

        def _waiting_for_head(self) -> bool:
            return self._in_head

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_head = True  # its bytes so far are counted already (the count restarts when one ends)

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head = True  # the next bytes start the next request
            self._reset_head()

    HTTP_PROTOCOL = "neura.gateway.server:HttpToolsServer"


def uvicorn_options(settings: Settings, *, protocol: str = HTTP_PROTOCOL) -> dict[str, Any]:
    """The uvicorn.run / uvicorn.Config options every gateway runs with."""
    return {
        "http": protocol,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "timeout_keep_alive": settings.http_keep_alive_s,
    }
