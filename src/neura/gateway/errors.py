"""The one place where errors become HTTP responses.

Every error body has the same shape: ``{"error": {"code", "message", "hint"}, "request_id"}`` with a
status code that means what it says (never 200 with an error body).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from neura.errors import NeuraError

log = logging.getLogger("neura.gateway")


def error_code(exc: BaseException) -> str:
    """``PaymentRequiredError`` -> ``payment_required``."""
    name = type(exc).__name__.removesuffix("Error") or "error"
    # a word starts at a capital after a lower-case letter or digit, or at the last capital of an
    # acronym before a lower-case letter: WebhookURL -> webhook_url, LLMUnavailable -> llm_unavailable
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def error_payload(code: str, message: str, hint: str | None, request_id: str | None, **extra: Any) -> dict[str, Any]:
    """The one error shape, also for the answers middleware and the server protocol write themselves."""
    error: dict[str, Any] = {"code": code, "message": message, "hint": hint or None}  # hint: null when none
    error.update(extra)
    return {"error": error, "request_id": request_id}


def error_body(request: Request, code: str, message: str, hint: str | None = None, **extra: Any) -> dict[str, Any]:
    return error_payload(code, message, hint, getattr(request.state, "request_id", None), **extra)


async def _neura_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NeuraError)
    headers = exc.http_headers
    if exc.http_status >= 500:
        log.warning("request failed: %s", exc)
    body = error_body(request, error_code(exc), exc.message, exc.hint)
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, hint = _HTTP_ERRORS.get(exc.status_code, ("http_error", "the API is documented at /docs"))
    return JSONResponse(
        error_body(request, code, str(exc.detail), hint), status_code=exc.status_code, headers=exc.headers or None
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
    details = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e.get("msg", "")} for e in errors]
    message = "; ".join(f"{d['field'] or 'body'}: {d['message']}" for d in details[:5]) or "invalid request"
    hint = "the expected fields are in the API documentation at /docs"
    return JSONResponse(error_body(request, "invalid_request", message, hint, details=details), status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    hint = "this is NEURA's fault, not yours: retry later, and report the request_id if it persists"
    return JSONResponse(error_body(request, "internal", "internal server error", hint), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NeuraError, _neura_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
