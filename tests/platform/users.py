"""Test helpers for the platform: make users through the real API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

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
