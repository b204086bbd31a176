"""Passwords, tokens and API keys.

- Passwords: argon2id with OWASP's parameters, re-hashed when the parameters change.
- Access tokens: short-lived HS256 JWTs (``typ=access``) signed with ``NEURA_SECRET_KEY``.
- Refresh tokens: JWTs (``typ=refresh``) whose ``jti`` is a row in ``refresh_tokens``; revoking the row
  revokes the token, and each refresh rotates it (the old one is revoked).
- API keys: ``nk_`` + 32 random bytes (url-safe); only their SHA-256 is stored (they are high-entropy,
  so a fast hash is the right tool), with a short prefix to tell them apart.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from neura.errors import AuthError

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@functools.cache
def _hasher() -> PasswordHasher:
    """argon2, imported on the first password rather than at start-up. OWASP's recommended argon2id
    floor (19 MiB, 2 passes, 1 lane): ~40 ms on this 2-core machine instead of argon2-cffi's ~0.45 s
    defaults, which would make sign-up and log-in a denial-of-service lever."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


API_KEY_PREFIX = "nk_"
JWT_ALGORITHM = "HS256"
_NEW_TOKEN = "log in again (POST /v1/auth/login) or refresh (POST /v1/auth/refresh) for a new access token"


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    token_type: str  # "access" | "refresh"
    jti: uuid.UUID
    expires_at: float


def issue_token(secret: str, user_id: uuid.UUID, token_type: str, ttl_s: int, jti: uuid.UUID | None = None) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "typ": token_type,
        "jti": str(jti or uuid.uuid4()),
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def decode_token(secret: str, token: str, expected_type: str) -> TokenClaims:
    try:
        claims = jwt.decode(token, secret, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "sub", "typ"]})
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired", hint="log in again or use your refresh token") from None
    except jwt.PyJWTError:
        raise AuthError("the token is not valid", hint=_NEW_TOKEN) from None
    if claims.get("typ") != expected_type:
        article = "an" if expected_type[0] in "aeiou" else "a"
        raise AuthError(
            f"this is not {article} {expected_type} token",
            hint="send the access token as Bearer; the refresh token only to /v1/auth/refresh",
        )
    try:
        return TokenClaims(uuid.UUID(claims["sub"]), claims["typ"], uuid.UUID(claims["jti"]), float(claims["exp"]))
    except (KeyError, ValueError):
        raise AuthError("the token is not valid", hint=_NEW_TOKEN) from None


def new_api_key() -> tuple[str, str, str]:
    """A fresh key: (the secret shown once, its prefix, its hash to store)."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return secret, secret[:10], hash_api_key(secret)


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign(secret: str, message: str) -> str:
    """HMAC-SHA256 hex signature (download URLs, webhooks)."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_matches(secret: str, message: str, signature: str) -> bool:
    """Compared as bytes in constant time; a signature that is not ASCII (a hex digest never is) never
    matches (``hmac.compare_digest`` refuses non-ASCII ``str``)."""
    if not signature.isascii():
        return False
    return hmac.compare_digest(sign(secret, message).encode("ascii"), signature.encode("ascii"))
