"""Accounts over HTTP: signup, login, token refresh with rotation and theft detection, logout, /v1/me."""

from __future__ import annotations

import time

import httpx
import pytest

from neura.config import Settings
from tests.platform.db import count_rows
from tests.platform.users import PASSWORD, signup


def login(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/v1/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_signup_creates_a_free_user_with_signup_credits_in_the_ledger(
    client: httpx.Client, platform_settings: Settings
) -> None:
    response = client.post("/v1/auth/signup", json={"email": "  Ada.Lovelace@Example.COM ", "password": PASSWORD})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == platform_settings.access_token_ttl_s
    assert body["user"]["email"] == "ada.lovelace@example.com"
    assert (body["user"]["plan"], body["user"]["credits"]) == ("free", platform_settings.signup_credits)
    assert "password" not in str(body["user"]).lower()

    credits = client.get("/v1/me/credits", headers=bearer(body["access_token"])).json()
    assert credits["balance"] == platform_settings.signup_credits
    [grant] = credits["items"]
    assert (grant["delta"], grant["balance_after"], grant["reason"]) == (300, 300, "grant")


def test_signup_refuses_a_taken_email_whatever_its_case(client: httpx.Client, database_url: str) -> None:
    user = signup(client)
    users_before = count_rows(database_url, "users")
    response = client.post("/v1/auth/signup", json={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert count_rows(database_url, "users") == users_before


def test_signup_validates_email_and_password(client: httpx.Client, database_url: str) -> None:
    users_before = count_rows(database_url, "users")
    for payload in (
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a@b", "password": PASSWORD},
        {"email": "two@@example.com", "password": PASSWORD},
        {"email": "ok@example.com", "password": "short"},
        {"email": "ok@example.com", "password": "x" * 257},
        {"email": "ok@example.com"},
        {"password": PASSWORD},
    ):
        response = client.post("/v1/auth/signup", json=payload)
        assert response.status_code == 422, payload
        assert response.json()["error"]["code"] == "invalid_request"
    assert count_rows(database_url, "users") == users_before


def test_login_gives_tokens_that_work(client: httpx.Client) -> None:
    user = signup(client)
    response = login(client, user.email.title())  # emails are matched case-insensitively
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["id"] == user.user_id
    me = client.get("/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == user.email
    assert me.json()["limits"]["name"] == "free"
    assert me.json()["limits"]["max_video_s"] > 0


def test_login_failures_look_the_same_for_unknown_emails_and_wrong_passwords(client: httpx.Client) -> None:
    user = signup(client)

    def timed(email: str, password: str) -> tuple[httpx.Response, float]:
        start = time.perf_counter()
        response = login(client, email, password)
        return response, time.perf_counter() - start

    wrong, wrong_s = timed(user.email, "wrong password here")
    unknown, unknown_s = timed("nobody-at-all@example.com", "wrong password here")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert unknown_s > 0.3 * wrong_s  # an unknown email still costs a password check (against a dummy hash)


def test_refresh_rotates_the_pair(client: httpx.Client) -> None:
    user = signup(client)
    response = client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["refresh_token"] != user.refresh_token and pair["token_type"] == "bearer"
    assert client.get("/v1/me", headers=bearer(pair["access_token"])).status_code == 200
    again = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200


def test_reusing_a_refresh_token_signs_out_every_session(client: httpx.Client) -> None:
    user = signup(client)
    other_session = login(client, user.email).json()
    rotated = client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token}).json()

    stolen = client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert stolen.status_code == 401
    assert "already used" in stolen.json()["error"]["message"]
    for token in (rotated["refresh_token"], other_session["refresh_token"]):
        assert client.post("/v1/auth/refresh", json={"refresh_token": token}).status_code == 401


def test_logout_revokes_the_refresh_token_and_the_access_token_at_once(client: httpx.Client) -> None:
    user = signup(client)
    other = login(client, user.email).json()
    response = client.post(
        "/v1/auth/logout", json={"refresh_token": user.refresh_token}, headers=bearer(user.access_token)
    )
    assert response.status_code == 204
    assert client.get("/v1/me", headers=bearer(user.access_token)).status_code == 401
    assert client.get("/v1/me", headers=bearer(other["access_token"])).status_code == 200  # other sessions live on
    assert client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token}).status_code == 401


def test_logout_without_a_valid_access_token_still_revokes_the_refresh_token(client: httpx.Client) -> None:
    user = signup(client)
    response = client.post("/v1/auth/logout", json={"refresh_token": user.refresh_token}, headers=bearer("garbage"))
    assert response.status_code == 204
    assert client.post("/v1/auth/logout", json={"refresh_token": user.refresh_token}).status_code == 204  # idempotent


def test_logout_never_revokes_another_accounts_access_token(client: httpx.Client) -> None:
    """A fuzzer logged out its own account while sending the probe's access token: the probe was signed out."""
    mine, theirs = signup(client), signup(client)
    response = client.post(
        "/v1/auth/logout", json={"refresh_token": theirs.refresh_token}, headers=bearer(mine.access_token)
    )
    assert response.status_code == 204
    assert client.get("/v1/me", headers=bearer(mine.access_token)).status_code == 200
    assert client.post("/v1/auth/refresh", json={"refresh_token": theirs.refresh_token}).status_code == 401


def test_tokens_of_the_wrong_kind_are_refused(client: httpx.Client) -> None:
    user = signup(client)
    assert client.get("/v1/me", headers=bearer(user.refresh_token)).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": user.access_token}).status_code == 401


def test_credits_ledger_is_paginated(client: httpx.Client) -> None:
    user = signup(client)
    page = client.get("/v1/me/credits", params={"limit": 1}, headers=user.headers).json()
    assert page["limit"] == 1 and page["offset"] == 0 and len(page["items"]) == 1
    assert page["next_offset"] is None
    assert client.get("/v1/me/credits", params={"limit": 0}, headers=user.headers).status_code == 422
    assert client.get("/v1/me/credits", params={"limit": 101}, headers=user.headers).status_code == 422


def test_plans_are_public(client: httpx.Client) -> None:
    response = client.get("/v1/plans")
    assert response.status_code == 200
    names = [plan["name"] for plan in response.json()["items"]]
    assert names[:1] == ["free"] and {"creator", "pro"} <= set(names)


def test_voices_name_their_engine_language_and_licence(client: httpx.Client) -> None:
    response = client.get("/v1/voices")
    assert response.status_code == 200, response.text
    voices = response.json()["items"]
    assert voices, "at least the espeak voices are always there"
    for voice in voices:
        assert voice["id"] and voice["engine"] in {"piper", "espeak", "xtts"}
        assert voice["language"] and voice["license"]


def test_an_api_key_header_without_the_key_prefix_says_what_a_key_looks_like(client: httpx.Client) -> None:
    response = client.get("/v1/me", headers={"X-API-Key": "sk-not-ours"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "the API key is not valid"
    assert "nk_" in response.json()["error"]["hint"]


def test_a_refresh_token_used_as_an_access_token_is_named(client: httpx.Client) -> None:
    user = signup(client)
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "this is not an access token"


@pytest.mark.parametrize(
    ("name", "code"),
    [("WebhookURLError", "webhook_url"), ("LLMUnavailableError", "llm_unavailable"), ("NoFaceError", "no_face")],
)
def test_error_codes_read_as_words(name: str, code: str) -> None:
    from neura.errors import error_code

    assert error_code(type(name, (Exception,), {})()) == code
