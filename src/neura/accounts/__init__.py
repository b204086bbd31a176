"""Accounts: users, sessions (access and refresh tokens) and their revocation.

Knows the database, Redis and the security primitives; knows no HTTP. The gateway's routes call it.
"""

from neura.accounts.tokens import (
    SessionTokens,
    access_claims_or_none,
    access_token_denied,
    deny_access_token,
    issue_session,
    revoke_refresh_token,
    rotate_refresh_token,
)
from neura.accounts.users import authenticate, create_user, normalise_email

__all__ = [
    "SessionTokens",
    "access_claims_or_none",
    "access_token_denied",
    "authenticate",
    "create_user",
    "deny_access_token",
    "issue_session",
    "normalise_email",
    "revoke_refresh_token",
    "rotate_refresh_token",
]
