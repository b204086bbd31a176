"""Sign up, log in, refresh and log out: with tokens (scripts) or with cookies (browsers: the
``/v1/auth/session`` routes, see ``neura.gateway.browser``)."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request, Response, status

from neura.accounts import tokens, users
from neura.errors import AuthError
from neura.gateway.browser import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    CSRFError,
    OriginError,
    check_csrf,
    check_origin,
    clear_session_cookies,
    has_session_cookie,
    set_session_cookies,
)
from neura.gateway.deps import DbSession, RedisDep, SettingsDep, State
from neura.gateway.errors import error_response, raises
from neura.gateway.ratelimit import (
    AuthRateLimited,
    RateLimited,
    begin_login,
    clear_login_failures,
)
from neura.gateway.schemas.accounts import AuthSession, LoginRequest, RefreshRequest, TokenPair, UserCreate, UserPublic

router = APIRouter(prefix="/v1/auth", tags=["auth"])
LOGIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "wrong email or password (one answer for both)"},
    429: {"description": "too many attempts from this IP, or too many wrong passwords for this account"},
}


def _session(user: UserPublic, issued: tokens.SessionTokens) -> AuthSession:
    return AuthSession(
        user=user,
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in_s,
    )


@router.post(
    "/signup",
    operation_id="signup",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AuthRateLimited],
    summary="Create an account (free plan, signup credits) and log in",
    responses={409: {"description": "the email already has an account"}},
)
async def signup(body: UserCreate, session: DbSession, settings: SettingsDep) -> AuthSession:
    user = await users.create_user(session, body.email, body.password, signup_credits=settings.signup_credits)
    issued = await tokens.issue_session(session, settings, user.id)
    return _session(UserPublic.model_validate(user), issued)


@router.post(
    "/login",
    operation_id="login",
    dependencies=[AuthRateLimited],
    summary="Trade an email and password for an access and a refresh token",
    responses=LOGIN_RESPONSES,
)
async def login(body: LoginRequest, session: DbSession, settings: SettingsDep, redis: RedisDep) -> AuthSession:
    user, issued = await _log_in(body, session, settings, redis)
    return _session(user, issued)


async def _log_in(
    body: LoginRequest, session: DbSession, settings: SettingsDep, redis: RedisDep
) -> tuple[UserPublic, tokens.SessionTokens]:
    """Check the password (under the per-account failure limit) and open a session: tokens or cookies."""
    await begin_login(redis, settings, body.email)  # counted as a failure until it succeeds
    user = await users.authenticate(session, body.email, body.password)
    await clear_login_failures(redis, body.email)
    return UserPublic.model_validate(user), await tokens.issue_session(session, settings, user.id)


@router.post(
    "/refresh",
    operation_id="refreshTokens",
    dependencies=[AuthRateLimited],
    summary="Trade a refresh token for a new pair (the old refresh token stops working)",
    responses={401: {"description": "invalid, expired or reused refresh token (reuse signs out every session)"}},
)
async def refresh(body: RefreshRequest, state: State) -> TokenPair:
    issued = await tokens.rotate_refresh_token(state.sessions, state.settings, body.refresh_token)
    return TokenPair(
        access_token=issued.access_token, refresh_token=issued.refresh_token, expires_in=issued.expires_in_s
    )


@router.post(
    "/logout",
    operation_id="logout",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[RateLimited],
    summary="Revoke a refresh token and, when sent in Authorization, the access token too",
)
async def logout(
    body: RefreshRequest, request: Request, session: DbSession, settings: SettingsDep, redis: RedisDep
) -> None:
    refresh_claims = await tokens.revoke_refresh_token(session, settings, body.refresh_token)
    scheme, _, access_token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and access_token.strip():
        claims = tokens.access_claims_or_none(settings, access_token.strip())
        if claims is not None and claims.user_id == refresh_claims.user_id:  # never another account's token
            await tokens.deny_access_token(redis, claims)


# --- browser sessions: the same, with HttpOnly cookies instead of tokens in the body


@router.post(
    "/session",
    operation_id="createSession",
    dependencies=[AuthRateLimited],
    summary="Browsers: log in; the session lives in HttpOnly cookies (no token reaches JavaScript)",
    description="Sets `neura_access`, `neura_refresh` (HttpOnly) and `neura_csrf` (send its value as "
    "`X-CSRF-Token` on state-changing requests). To sign up from a browser: `POST /v1/auth/signup`, then this.",
    responses=LOGIN_RESPONSES,
)
@raises(OriginError)
async def create_session(
    body: LoginRequest, request: Request, response: Response, session: DbSession, settings: SettingsDep, redis: RedisDep
) -> UserPublic:
    check_origin(request, settings)  # a page on another site cannot sign this browser in (login CSRF)
    user, issued = await _log_in(body, session, settings, redis)
    set_session_cookies(response, settings, issued)
    return user


@router.post(
    "/session/refresh",
    operation_id="refreshSession",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[AuthRateLimited],
    summary="Browsers: new session cookies for the refresh cookie (needs X-CSRF-Token)",
    responses={401: {"description": "no session, or it expired or was revoked: the cookies are cleared"}},
)
@raises(AuthError, CSRFError)
async def refresh_session(request: Request, state: State) -> Response:
    settings = state.settings
    try:
        refresh_token = request.cookies.get(REFRESH_COOKIE)
        if not refresh_token:
            raise AuthError("there is no browser session to refresh", hint="log in: POST /v1/auth/session")
        check_csrf(request)
        issued = await tokens.rotate_refresh_token(state.sessions, settings, refresh_token)
    except AuthError as exc:
        refused = error_response(request, exc)
        clear_session_cookies(refused, settings)
        return refused
    refreshed = Response(status_code=status.HTTP_204_NO_CONTENT)
    set_session_cookies(refreshed, settings, issued)
    return refreshed


@router.delete(
    "/session",
    operation_id="deleteSession",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[RateLimited],
    summary="Browsers: log out (revokes the session's tokens and clears its cookies; needs X-CSRF-Token)",
)
@raises(CSRFError)
async def delete_session(request: Request, session: DbSession, settings: SettingsDep, redis: RedisDep) -> Response:
    if has_session_cookie(request):
        check_csrf(request)  # else a page on another site could sign the browser out
    with contextlib.suppress(AuthError):  # an expired or forged refresh cookie: nothing to revoke
        await tokens.revoke_refresh_token(session, settings, request.cookies.get(REFRESH_COOKIE, ""))
    claims = tokens.access_claims_or_none(settings, request.cookies.get(ACCESS_COOKIE, ""))
    if claims is not None:
        await tokens.deny_access_token(redis, claims)
    ended = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(ended, settings)
    return ended
