"""Creating users and checking their passwords.

Password hashing (argon2id, tens of milliseconds of CPU) runs in a worker thread, never on the event
loop. A login for an unknown email verifies against a dummy hash, so it takes as long as a wrong
password and the response time does not tell which emails have accounts.
"""

from __future__ import annotations

import asyncio
import re
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from neura import billing
from neura.db.models import User
from neura.errors import AuthError, ConflictError
from neura.security import hash_password, password_needs_rehash, verify_password

EMAIL_MAX_CHARS = 320
PASSWORD_MIN_CHARS = 10
PASSWORD_MAX_CHARS = 256
INVALID_LOGIN = "the email or password is wrong"

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s\"(),:;<>\[\]\\]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")


def normalise_email(raw: str) -> str:
    """The canonical (trimmed, lower-case) form of an email address; ValueError when it is not one."""
    email = raw.strip().lower()
    if len(email) > EMAIL_MAX_CHARS or not _EMAIL.match(email):
        raise ValueError("not a valid email address")
    return email


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("neura: a password that no account has")


async def create_user(session: AsyncSession, email: str, password: str, *, signup_credits: int) -> User:
    """A new user on the free plan with ``signup_credits`` granted through the ledger.

    ``email`` must already be normalised. ConflictError when the email is taken."""
    taken = await session.scalar(select(User.id).where(User.email == email))
    if taken is not None:
        raise ConflictError("an account with this email already exists", hint="log in instead")
    password_hash = await asyncio.to_thread(hash_password, password)
    user = User(email=email, password_hash=password_hash, plan="free", credits=0, is_active=True)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent signup with the same email won the race
        raise ConflictError("an account with this email already exists", hint="log in instead") from None
    if signup_credits > 0:
        await billing.grant(session, user.id, signup_credits, note="signup")
        await session.refresh(user)
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """The active user with this email and password; AuthError (one message for every cause) otherwise."""
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    stored = user.password_hash if user is not None else _dummy_hash()
    matches = await asyncio.to_thread(verify_password, stored, password)
    if user is None or not matches:
        raise AuthError(INVALID_LOGIN, hint="check both, or sign up (POST /v1/auth/signup)")
    if not user.is_active:
        raise AuthError("this account is disabled", hint="contact support")
    if password_needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(hash_password, password)
    return user
