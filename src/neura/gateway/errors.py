"""The one place where errors become HTTP responses (and WebSocket closes).

Every error body has the same shape: ``{"error": {"code", "message", "hint"}, "request_id"}`` with a
status code that means what it says (never 200 with an error body).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from neura.errors import NeuraError, WireError, wire_error
from neura.gateway.outages import OUTAGE_ERRORS, outage

log = logging.getLogger("neura.gateway")

F = TypeVar("F", bound=Callable[..., Any])


class FieldProblem(BaseModel):
    field: str = Field(description="dotted path of the field in the request ('' for the whole body)")
    message: str


class ErrorInfo(WireError):
    details: list[FieldProblem] | None = Field(None, description="invalid_request only: each field's problem")


class ErrorBody(BaseModel):
    """Every error response of the API (never 200 with an error body)."""

    error: ErrorInfo
    request_id: str | None = Field(description="the X-Request-ID of the request, for support")


def raises(*errors: type[NeuraError]) -> Callable[[F], F]:
    """Mark a route or a dependency with the errors it raises: the OpenAPI schema declares each one's
    status with :class:`ErrorBody` (``neura.gateway.openapi``), wherever the dependency is used."""

    def mark(function: F) -> F:
        declared: tuple[type[NeuraError], ...] = getattr(function, "__neura_raises__", ())
        setattr(function, "__neura_raises__", declared + errors)  # noqa: B010 - an attribute of our own
        return function

    return mark


def declared_errors(function: object) -> tuple[type[NeuraError], ...]:
    return tuple(getattr(function, "__neura_raises__", ()))


def error_payload(
    code: str, message: str, hint: str | None, request_id: str | None, details: list[FieldProblem] | None = None
) -> dict[str, Any]:
    """An :class:`ErrorBody` as JSON data (``hint`` null when none; ``details`` only when given); also for
    the answers middleware and the server protocol write themselves, outside any route."""
    body = ErrorBody(
        error=ErrorInfo(code=code, message=message, hint=hint or None, details=details), request_id=request_id
    )
    return body.model_dump(mode="json", exclude={"error": {"details"}} if details is None else None)


def error_body(
    request: Request, code: str, message: str, hint: str | None = None, details: list[FieldProblem] | None = None
) -> dict[str, Any]:
    return error_payload(code, message, hint, getattr(request.state, "request_id", None), details)


def error_response(request: Request, exc: NeuraError) -> JSONResponse:
    """The response of a NeuraError (for a route that must add to it, e.g. cookies to clear)."""
    wire, status = wire_error(exc)
    if status >= 500:
        log.warning("request failed: %s", exc)
    body = error_body(request, wire.code, wire.message, wire.hint)
    return JSONResponse(body, status_code=status, headers=exc.http_headers)


async def _neura_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NeuraError)
    return error_response(request, exc)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, hint = _HTTP_ERRORS.get(exc.status_code, ("http_error", "the API is documented at /docs"))
    detail = str(exc.detail)
    json_body = "json" in request.headers.get("content-type", "")
    if exc.status_code == 400 and detail == _FASTAPI_UNPARSABLE_BODY and json_body:  # json.loads gave up
        code, detail, hint = "invalid_json", _UNPARSABLE_JSON, "send a JSON object"
    return JSONResponse(
        error_body(request, code, detail, hint), status_code=exc.status_code, headers=exc.headers or None
    )


_FASTAPI_UNPARSABLE_BODY = "There was an error parsing the body"
_UNPARSABLE_JSON = (
    "the request body is not JSON that can be read: a number with thousands of digits or nesting too deep"
)
_HTTP_ERRORS = {  # Starlette's own errors (no route, wrong method, unreadable body): code and hint
    400: ("bad_request", "check the request's syntax and its Content-Type"),
    401: ("auth", "send 'Authorization: Bearer <token>' or 'X-API-Key: nk_...'"),
    403: ("forbidden", "these credentials may not do this"),
    404: ("not_found", "check the path: every route is listed at /docs"),
    405: ("method_not_allowed", "the methods this path allows are in the Allow header"),
    413: ("payload_too_large", "send a smaller body"),
}


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        where = next((e["loc"][1] for e in errors if len(e.get("loc", ())) > 1), None)
        at = f" (at character {where})" if isinstance(where, int) else ""
        return JSONResponse(
            error_body(request, "invalid_json", f"the request body is not valid JSON{at}", "send a JSON object"),
            status_code=400,
        )
    content_type = request.headers.get("content-type", "")
    if any(tuple(e.get("loc", ())) == ("body",) for e in errors) and content_type and "json" not in content_type:
        return JSONResponse(
            error_body(
                request,
                "unsupported_media_type",
                f"the body must be JSON, not {content_type.split(';')[0]}",
                "send it with Content-Type: application/json",
            ),
            status_code=415,
        )
    details = [
        FieldProblem(field=".".join(str(p) for p in e.get("loc", ())[1:]), message=e.get("msg", "")) for e in errors
    ]
    message = "; ".join(f"{d.field or 'body'}: {d.message}" for d in details[:5]) or "invalid request"
    hint = "the expected fields are in the API documentation at /docs"
    return JSONResponse(error_body(request, "invalid_request", message, hint, details=details), status_code=422)


async def _outage_or_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A driver error: 503 with Retry-After when PostgreSQL or Redis is down, else a bug (500)."""
    unavailable = outage(exc)
    if unavailable is None:
        return await _unexpected(request, exc)
    return error_response(request, unavailable)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    wire, status = wire_error(exc)
    return JSONResponse(error_body(request, wire.code, wire.message, wire.hint), status_code=status)


# --- WebSockets: an error is a message, then the close code 4000 + its HTTP status (4401, 4404, 4429...)


class RealtimeError(WireError):
    """The last message of a WebSocket that ends in an error (TTS stream, video events)."""

    type: Literal["error"] = "error"


def close_code(status: int) -> int:
    """The WebSocket close code of an error with this HTTP status: 4000 + status (4401, 4422, 4503);
    1011 (internal error) for a bug."""
    return 1011 if status == 500 else 4000 + status


async def close_with_error(websocket: WebSocket, exc: BaseException) -> None:
    """Send the error as a :class:`RealtimeError` message, then close with :func:`close_code`. A client
    that has gone already is not an error."""
    if not isinstance(exc, NeuraError):
        log.error("websocket %s failed", websocket.url.path, exc_info=exc)
    wire, status = wire_error(exc)
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.send_text(RealtimeError(**wire.model_dump()).model_dump_json())
        await websocket.close(close_code(status), reason=wire.message[:120])


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NeuraError, _neura_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for driver_error in OUTAGE_ERRORS:  # handled here, not by the catch-all that drops the connection
        app.add_exception_handler(driver_error, _outage_or_unexpected)
    app.add_exception_handler(Exception, _unexpected)
