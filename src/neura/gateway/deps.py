"""Request dependencies: routes read as plain signatures (``session: DbSession, user: CurrentUser``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers, QueryParams
from starlette.requests import HTTPConnection

from neura.accounts.tokens import access_token_denied
from neura.config import Settings
from neura.db.models import ApiKey, User
from neura.errors import AuthError
from neura.gateway.browser import ACCESS_COOKIE, check_cookie_request, has_session_cookie
from neura.gateway.errors import raises
from neura.gateway.state import AppState
from neura.security import API_KEY_PREFIX, decode_token, hash_api_key


def app_state(request: Request) -> AppState:
    return app_state_of(request)


def app_state_of(connection: HTTPConnection) -> AppState:
    state: AppState = connection.app.state.neura
    return state


State = Annotated[AppState, Depends(app_state)]


def settings(state: State) -> Settings:
    return state.settings


SettingsDep = Annotated[Settings, Depends(settings)]


async def db_session(state: State) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back when it raises."""
    async with state.sessions() as session, session.begin():
        yield session


# scope="function": commit before the response is sent, so a client that got 201 sees its row at once
DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]


def redis_client(state: State) -> Redis:
    return state.redis


RedisDep = Annotated[Redis, Depends(redis_client)]


def credentials(headers: Headers, query: QueryParams | None = None) -> str:
    """The bearer token or API key of a request: ``Authorization: Bearer``, ``X-API-Key``, or (for
    WebSockets, whose browser API cannot set headers) ``?access_token=`` / ``?api_key=``."""
    token = explicit_credentials(headers, query)
    if token is None:
        raise AuthError("authentication required", hint=_HOW_TO_AUTHENTICATE)
    return token


_HOW_TO_AUTHENTICATE = (
    "send 'Authorization: Bearer <token>' or 'X-API-Key: nk_...' (WebSocket: ?access_token=...), "
    "or sign in from a browser (POST /v1/auth/session)"
)


def explicit_credentials(headers: Headers, query: QueryParams | None = None) -> str | None:
    """What :func:`credentials` finds; None when the request names none (a browser's cookie may)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    candidates = [(headers.get("x-api-key", ""), True)]
    if query is not None:
        candidates += [(query.get("access_token", ""), False), (query.get("api_key", ""), True)]
    for value, is_api_key in candidates:
        if value.strip():
            if is_api_key and not value.strip().startswith(API_KEY_PREFIX):
                raise AuthError(
                    "the API key is not valid",
                    hint=f"API keys start with {API_KEY_PREFIX} (create one: POST /v1/api-keys)",
                )
            return value.strip()
    return None


def request_credentials(connection: HTTPConnection) -> str:
    """The token of a request or WebSocket: :func:`credentials`, else the browser session's access
    cookie, which must pass the CSRF or Origin check (``neura.gateway.browser``)."""
    websocket = connection.scope["type"] == "websocket"
    token = explicit_credentials(connection.headers, connection.query_params if websocket else None)
    if token is not None:
        return token
    cookie = connection.cookies.get(ACCESS_COOKIE, "").strip()
    if not cookie:
        if has_session_cookie(connection):
            raise AuthError("the browser session's access token has expired", hint="POST /v1/auth/session/refresh")
        raise AuthError("authentication required", hint=_HOW_TO_AUTHENTICATE)
    check_cookie_request(connection, app_state_of(connection).settings)
    return cookie


def peek_credentials(connection: HTTPConnection) -> str | None:
    """The token a request carries, unchecked (rate limiting counts by it; the route checks it)."""
    try:
        token = explicit_credentials(connection.headers)
    except AuthError:
        return None
    return token if token is not None else connection.cookies.get(ACCESS_COOKIE) or None


async def user_from_credentials(
    token: str, session: AsyncSession, settings: Settings, redis: Redis | None = None
) -> User:
    """The active user behind an access token or an API key; AuthError otherwise. With ``redis``,
    access tokens revoked by logout (neura.accounts.tokens' deny-list) are refused too."""
    if token.startswith(API_KEY_PREFIX):
        key = await session.scalar(
            select(ApiKey).where(ApiKey.key_hash == hash_api_key(token), ApiKey.revoked_at.is_(None))
        )
        if key is None:
            raise AuthError(
                "the API key is not valid or was revoked", hint="create a key (POST /v1/api-keys): it is shown once"
            )
        await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=datetime.now(UTC)))
        user_id: uuid.UUID = key.user_id
    else:
        claims = decode_token(settings.secret_key, token, "access")
        if redis is not None and await access_token_denied(redis, claims.jti):
            raise AuthError("the token was revoked (logged out)", hint="log in again")
        user_id = claims.user_id
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise AuthError("the account does not exist or is disabled", hint="sign up (POST /v1/auth/signup)")
    return user


async def authenticate(state: AppState, token: str) -> User:
    """The active user behind ``token``, looked up in a short transaction of its own (for WebSockets
    and long-running routes that must not hold a database connection while they work)."""
    async with state.sessions() as session, session.begin():
        return await user_from_credentials(token, session, state.settings, state.redis)


@raises(AuthError)
async def current_user(request: Request, session: DbSession, settings: SettingsDep, redis: RedisDep) -> User:
    user = await user_from_credentials(request_credentials(request), session, settings, redis)
    request.state.user_id = user.id
    return user


CurrentUser = Annotated[User, Depends(current_user)]


@raises(AuthError)
async def speech_user(request: Request, state: State) -> User:
    """Like ``CurrentUser``, but the database connection goes back to the pool before the (seconds
    long) work starts: synthesis, alignment, a language model's answer."""
    user = await authenticate(state, request_credentials(request))
    request.state.user_id = user.id
    return user


SpeechUser = Annotated[User, Depends(speech_user)]
