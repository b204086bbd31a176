"""Test helpers for the platform: make users through the real API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import select

from neura.accounts.admin import grant_credits, set_plan
from neura.db.models import User
from neura.db.session import make_engine, make_sessionmaker, transaction

PASSWORD = "correct horse battery staple"


@dataclass
class TestUser:
    email: str
    user_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def signup(client: httpx.Client, email: str | None = None, password: str = PASSWORD) -> TestUser:
    """POST /v1/auth/signup -> 201 {"user": {"id", "email", "plan", "credits", ...}, "access_token",
    "refresh_token", "token_type": "bearer"}."""
    email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
    response = client.post("/v1/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    body = response.json()
    return TestUser(email, body["user"]["id"], body["access_token"], body["refresh_token"])


async def arrange_account(
    database_url: str, user: TestUser, *, plan: str | None = None, credits: int | None = None
) -> None:
    """Test set-up through the operators' own code (what ``neura users`` runs), never SQL: a plan, and a
    balance of exactly ``credits`` reached by one ledger entry (a grant or a withdrawal)."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            if plan is not None:
                await set_plan(session, user.email, plan, reason="test set-up")
            if credits is not None:
                current = await session.scalar(select(User.credits).where(User.email == user.email))
                if current is not None and credits != current:
                    await grant_credits(session, user.email, credits - current, reason="test set-up")
    finally:
        await engine.dispose()
