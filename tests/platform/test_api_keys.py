"""API keys: shown once, listed without secrets, usable as X-API-Key or Bearer, revocable at once."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.platform import users


@pytest.fixture(scope="module")
def user(gateway_url: str) -> Iterator[users.TestUser]:
    with httpx.Client(base_url=gateway_url, timeout=30.0) as http:
        yield users.signup(http)


def create_key(client: httpx.Client, user: users.TestUser, name: str = "laptop") -> dict[str, str]:
    response = client.post("/v1/api-keys", json={"name": name}, headers=user.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_new_key_is_shown_once_and_listed_without_its_secret(client: httpx.Client, user: users.TestUser) -> None:
    created = create_key(client, user, "  build server  ")
    assert created["key"].startswith("nk_") and len(created["key"]) > 40
    assert created["prefix"] == created["key"][:10]
    assert created["name"] == "build server"
    listed = client.get("/v1/api-keys", headers=user.headers).json()["items"]
    [entry] = [item for item in listed if item["id"] == created["id"]]
    assert "key" not in entry and created["key"] not in str(listed)
    assert entry["prefix"] == created["prefix"]


def test_a_key_authenticates_as_x_api_key_and_as_bearer(client: httpx.Client, user: users.TestUser) -> None:
    key = create_key(client, user)["key"]
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        response = client.get("/v1/me", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == user.user_id
    listed = client.get("/v1/api-keys", headers=user.headers).json()["items"]
    assert next(item for item in listed if item["prefix"] == key[:10])["last_used_at"] is not None


def test_a_revoked_key_stops_working_at_once(client: httpx.Client, user: users.TestUser) -> None:
    created = create_key(client, user)
    assert client.delete(f"/v1/api-keys/{created['id']}", headers=user.headers).status_code == 204
    assert client.get("/v1/me", headers={"X-API-Key": created["key"]}).status_code == 401
    listed = client.get("/v1/api-keys", headers=user.headers).json()["items"]
    assert created["id"] not in {item["id"] for item in listed}
    assert client.delete(f"/v1/api-keys/{created['id']}", headers=user.headers).status_code == 404


def test_a_key_cannot_manage_keys(client: httpx.Client, user: users.TestUser) -> None:
    created = create_key(client, user)
    as_key = {"X-API-Key": created["key"]}
    assert client.post("/v1/api-keys", json={"name": "more"}, headers=as_key).status_code == 403
    assert client.delete(f"/v1/api-keys/{created['id']}", headers=as_key).status_code == 403
    assert client.get("/v1/api-keys", headers=as_key).status_code == 200  # listing is harmless


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_key_names_are_validated(client: httpx.Client, user: users.TestUser, name: str) -> None:
    response = client.post("/v1/api-keys", json={"name": name}, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_an_unknown_key_is_refused(client: httpx.Client) -> None:
    response = client.get("/v1/me", headers={"X-API-Key": "nk_" + "A" * 43})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth"
