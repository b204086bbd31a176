"""Browser sessions: HttpOnly cookies set by the gateway, CSRF and Origin checks, and CORS.

A browser never holds a token in JavaScript. ``POST /v1/auth/session`` sets three cookies:

- ``neura_access``: the access JWT; ``HttpOnly; Secure; SameSite=Lax; Path=/`` (lives as long as the token);
- ``neura_refresh``: the refresh token; ``HttpOnly; Secure; SameSite=Strict; Path=/v1/auth``;
- ``neura_csrf``: a random token page JavaScript reads (not HttpOnly); ``Secure; SameSite=Strict; Path=/``.

A request authenticated by the access cookie (no ``Authorization`` or ``X-API-Key``) with a state-changing
method must send ``X-CSRF-Token`` equal to the ``neura_csrf`` cookie (a page on another site can make the
browser send cookies, but cannot read them to copy the token), else 403 ``csrf``. Cookie-authenticated
WebSockets and event streams (which a page on another site could open too) must come from an allowed
``Origin``: the request's own (``Host`` or, behind a proxy such as the web app's, ``X-Forwarded-Host``)
or one of ``CORS_ORIGINS``, else 403 ``origin``. Scripts using bearer tokens or API keys are unaffected.

``Secure`` cookies work on ``http://localhost`` and ``http://127.0.0.1`` (browsers treat them as secure
origins); ``COOKIE_SECURE=false`` is only accepted with ``ENV=local``, for a LAN address over plain HTTP.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection

from neura.accounts.tokens import SessionTokens
from neura.config import Settings
from neura.errors import ForbiddenError
from neura.gateway.errors import ErrorBody, ErrorInfo

ACCESS_COOKIE = "neura_access"
REFRESH_COOKIE = "neura_refresh"
CSRF_COOKIE = "neura_csrf"
CSRF_HEADER = "X-CSRF-Token"
REFRESH_COOKIE_PATH = "/v1/auth"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CORS_ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-API-Key",
    CSRF_HEADER,
    "X-Request-ID",
    "Idempotency-Key",
    "If-Match",
    "Range",
]
CORS_EXPOSED_HEADERS = [
    "Location",
    "ETag",
    "Link",
    "Accept-Patch",
    "Retry-After",
    "X-Request-ID",
    "X-Credits-Charged",
    "X-Credits-Remaining",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "Content-Range",
    "Content-Disposition",
]


class CSRFError(ForbiddenError):
    """A cookie-authenticated state-changing request without the right X-CSRF-Token."""


class OriginError(ForbiddenError):
    """A cookie-authenticated request from a page of an origin this gateway does not serve."""


# --- cookies


def set_session_cookies(response: Response, settings: Settings, issued: SessionTokens) -> None:
    secure = settings.cookie_secure
    response.set_cookie(
        ACCESS_COOKIE,
        issued.access_token,
        max_age=issued.expires_in_s,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        issued.refresh_token,
        max_age=settings.refresh_token_ttl_s,
        path=REFRESH_COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        max_age=settings.refresh_token_ttl_s,
        path="/",
        secure=secure,
        httponly=False,
        samesite="strict",
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_COOKIE_PATH), (CSRF_COOKIE, "/")):
        response.delete_cookie(name, path=path, secure=settings.cookie_secure, httponly=name != CSRF_COOKIE)


def has_session_cookie(connection: HTTPConnection) -> bool:
    return bool(connection.cookies.get(ACCESS_COOKIE) or connection.cookies.get(REFRESH_COOKIE))


# --- checks of cookie-authenticated requests


def check_cookie_request(connection: HTTPConnection, settings: Settings) -> None:
    """CSRF for state-changing HTTP requests; the Origin for WebSockets and event streams."""
    if connection.scope["type"] == "websocket" or "text/event-stream" in connection.headers.get("accept", ""):
        check_origin(connection, settings)
    elif connection.scope.get("method", "GET") not in SAFE_METHODS:
        check_csrf(connection)


def check_csrf(connection: HTTPConnection) -> None:
    cookie = connection.cookies.get(CSRF_COOKIE, "")
    header = connection.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise CSRFError(
            f"the request's {CSRF_HEADER} header is missing or does not match the {CSRF_COOKIE} cookie",
            hint=f"send the {CSRF_COOKIE} cookie's value as {CSRF_HEADER} (or reload the page)",
        )


def check_origin(connection: HTTPConnection, settings: Settings) -> None:
    """An ``Origin`` header, when sent, must be the request's own origin or one of ``CORS_ORIGINS``."""
    origin = connection.headers.get("origin")
    if origin is None or origin in allowed_origins(connection, settings):
        return
    raise OriginError(
        f"requests from {origin[:100]} may not use this browser session",
        hint="add the page's origin to CORS_ORIGINS, or authenticate with a token",
    )


def allowed_origins(connection: HTTPConnection, settings: Settings) -> set[str]:
    schemes = {"https" if connection.url.scheme in ("https", "wss") else "http"}
    hosts = {connection.headers.get("host", "")}
    forwarded_host = connection.headers.get("x-forwarded-host", "").split(",")[0].strip()
    if forwarded_host:
        hosts.add(forwarded_host)
        schemes.add(connection.headers.get("x-forwarded-proto", "http").split(",")[0].strip())
    own = {f"{scheme}://{host}" for scheme in schemes for host in hosts if host}
    return own | set(settings.cors_origin_list)


# --- CORS


class ListedOriginsCORS(CORSMiddleware):
    """Starlette's CORS, except that a preflight from an origin not listed gets a plain 403 error body
    and no ``Access-Control-*`` header at all (Starlette answers 400 with the allowed methods and headers)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        origin = request_headers["origin"]
        if self.is_allowed_origin(origin):
            return super().preflight_response(request_headers)
        error = ErrorBody(
            error=ErrorInfo(
                code="cors", message=f"{origin[:100]} may not call this API from a browser", hint="see CORS_ORIGINS"
            ),
            request_id=None,
        )
        return JSONResponse(error.model_dump(mode="json", exclude={"error": {"details"}}), status_code=403)


def install_cors(app: FastAPI, settings: Settings) -> None:
    """CORS for the origins of ``CORS_ORIGINS`` only (credentials allowed, so never ``*``). With none,
    no response carries CORS headers and every preflight is refused (403)."""
    app.add_middleware(
        ListedOriginsCORS,
        allow_origins=settings.cors_origin_list,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=CORS_ALLOWED_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
        max_age=600,
    )
