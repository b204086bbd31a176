"""Sessions: a short-lived access token plus a rotating refresh token.

- Every refresh token is a row in ``refresh_tokens`` (its ``jti``). Refreshing revokes that row and
  issues a new pair; the revocation is a single conditional UPDATE, so of two concurrent refreshes with
  the same token only one wins.
- Presenting a refresh token that was already revoked means it was copied (or the client replayed it):
  every refresh token of that user is revoked (theft detection) and the caller must log in again.
- Rows of refresh tokens that expired over :data:`PRUNE_AFTER` ago are deleted by the workers' sweeper
  (:func:`prune_expired_refresh_tokens`): an expired token fails its own signature check first, so
  theft detection does not need them.
- Access tokens are not stored; logging out puts the access token's ``jti`` on a Redis deny-list until
  the token would have expired anyway, so logout takes effect at once.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neura.config import Settings
from neura.db.models import RefreshToken, User
from neura.db.session import transaction
from neura.errors import AuthError
from neura.security import TokenClaims, decode_token, issue_token

log = logging.getLogger("neura.accounts")

_DENIED = "neura:auth:denied-access:"


@dataclass(frozen=True)
class SessionTokens:
    access_token: str
    refresh_token: str
    expires_in_s: int  # lifetime of the access token


async def issue_session(session: AsyncSession, settings: Settings, user_id: uuid.UUID) -> SessionTokens:
    """A fresh access token and a refresh token recorded in ``refresh_tokens``."""
    jti = uuid.uuid4()
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_s)
    session.add(RefreshToken(id=jti, user_id=user_id, expires_at=expires_at))
    await session.flush()
    return SessionTokens(
        access_token=issue_token(settings.secret_key, user_id, "access", settings.access_token_ttl_s),
        refresh_token=issue_token(settings.secret_key, user_id, "refresh", settings.refresh_token_ttl_s, jti=jti),
        expires_in_s=settings.access_token_ttl_s,
    )


async def rotate_refresh_token(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, refresh_token: str
) -> SessionTokens:
    """Trade a refresh token for a new pair, revoking it. Runs in its own transaction so that the
    theft-detection revocation is committed even though the call then fails with AuthError."""
    claims = decode_token(settings.secret_key, refresh_token, "refresh")
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        user_id = await session.scalar(
            update(RefreshToken)
            .where(
                RefreshToken.id == claims.jti,
                RefreshToken.user_id == claims.user_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(revoked_at=now)
            .returning(RefreshToken.user_id)
        )
        if user_id is not None:
            user = await session.get(User, user_id)
            if user is None or not user.is_active:
                raise AuthError("the account does not exist or is disabled", hint="sign up (POST /v1/auth/signup)")
            return await issue_session(session, settings, user_id)
        known = await session.get(RefreshToken, claims.jti)
        reused = known is not None and known.revoked_at is not None
        if reused:
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.user_id == claims.user_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
    if reused:
        log.warning("revoked refresh token reused for user %s: all its sessions revoked", claims.user_id)
        raise AuthError(
            "this refresh token was already used; every session of this account has been signed out",
            hint="log in again",
        )
    raise AuthError("the refresh token is not valid or has expired", hint="log in again")


async def revoke_refresh_token(session: AsyncSession, settings: Settings, refresh_token: str) -> TokenClaims:
    """Log out one session; its claims. Revoking an already revoked token is not an error."""
    claims = decode_token(settings.secret_key, refresh_token, "refresh")
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == claims.jti, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return claims


def access_claims_or_none(settings: Settings, access_token: str) -> TokenClaims | None:
    """The claims of a still-valid access token; None when it is expired or invalid (nothing to revoke)."""
    try:
        return decode_token(settings.secret_key, access_token, "access")
    except AuthError:
        return None


async def deny_access_token(redis: Redis, claims: TokenClaims) -> None:
    """Refuse this access token from now until it expires."""
    ttl_s = math.ceil(claims.expires_at - time.time())
    if ttl_s > 0:
        await redis.set(f"{_DENIED}{claims.jti}", b"1", ex=ttl_s)


async def access_token_denied(redis: Redis, jti: uuid.UUID) -> bool:
    return bool(await redis.exists(f"{_DENIED}{jti}"))


PRUNE_AFTER = timedelta(days=1)  # clock skew margin: the JWT's own expiry is the same instant
PRUNE_BATCH = 5000  # rows a sweep deletes at most (short transactions, however many expired)


async def prune_expired_refresh_tokens(session: AsyncSession, batch: int = PRUNE_BATCH) -> int:
    """Delete up to ``batch`` refresh tokens that expired over a day ago; return how many."""
    cutoff = datetime.now(UTC) - PRUNE_AFTER
    # SKIP LOCKED: sweepers of several workers take disjoint batches instead of waiting on each other
    expired = (
        select(RefreshToken.id).where(RefreshToken.expires_at < cutoff).limit(batch).with_for_update(skip_locked=True)
    )
    result = await session.execute(delete(RefreshToken).where(RefreshToken.id.in_(expired.scalar_subquery())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
