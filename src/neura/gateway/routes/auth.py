"""Sign up, log in, refresh and log out."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from neura.accounts import tokens, users
from neura.gateway.deps import DbSession, RedisDep, SettingsDep, State
from neura.gateway.ratelimit import (
    AuthRateLimited,
    RateLimited,
    begin_login,
    clear_login_failures,
)
from neura.gateway.schemas.accounts import AuthSession, LoginRequest, RefreshRequest, TokenPair, UserCreate, UserPublic

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def _session(user: UserPublic, issued: tokens.SessionTokens) -> AuthSession:
    return AuthSession(
        user=user,
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in_s,
    )


@router.post(
    "/signup",
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
    dependencies=[AuthRateLimited],
    summary="Trade an email and password for an access and a refresh token",
    responses={
        401: {"description": "wrong email or password (one answer for both)"},
        429: {"description": "too many attempts from this IP, or too many wrong passwords for this account"},
    },
)
async def login(body: LoginRequest, session: DbSession, settings: SettingsDep, redis: RedisDep) -> AuthSession:
    await begin_login(redis, settings, body.email)  # counted as a failure until it succeeds
    user = await users.authenticate(session, body.email, body.password)
    await clear_login_failures(redis, body.email)
    issued = await tokens.issue_session(session, settings, user.id)
    return _session(UserPublic.model_validate(user), issued)


@router.post(
    "/refresh",
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
