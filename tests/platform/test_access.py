"""The access matrix over the whole route table: every operation of the gateway's OpenAPI schema is
either public (listed below, with why) or needs a user, and every operation that needs a user refuses
every credential that is not a live one of an active user: none, a forged or tampered JWT, an expired
one, a refresh token used as an access token, a logged-out token, a revoked API key, a token of nobody.
WebSockets (not in the schema) are walked from the route table and refuse the same, and the public
refresh routes, whose credential is the refresh token in the body, refuse every bad refresh token.

The matrix is generated from the app's routes: a new operation is tested here the day it is added
(if it declares a security requirement) or fails ``test_every_public_operation_is_listed_with_why``
(if it does not). Which user may reach which object is tests/platform/test_ownership.py's matrix;
rate limits and login lock-out under bursts are tests/platform/test_ratelimit.py's.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import jwt
import pytest
from fastapi.routing import APIWebSocketRoute
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from neura.config import Settings
from neura.gateway.app import create_app
from neura.security import JWT_ALGORITHM, issue_token
from tests.platform import users
from tests.platform.ownership import assert_hidden

# Operations anyone may call, and why; everything else declares a security requirement and is in the
# matrix below. A new public route must be added here on purpose.
PUBLIC = {
    "GET /healthz": "liveness, for the orchestrator",
    "GET /readyz": "readiness, for the orchestrator",
    "GET /metrics": "its own bearer METRICS_TOKEN (tests/platform/test_health.py)",
    "POST /v1/auth/signup": "makes an account",
    "POST /v1/auth/login": "exchanges a password for tokens",
    "POST /v1/auth/refresh": "the refresh token in its body is the credential",
    "POST /v1/auth/logout": "revokes the refresh token in its body",
    "POST /v1/auth/session": "browser login: a password for cookies",
    "DELETE /v1/auth/session": "browser logout: clears cookies",
    "POST /v1/auth/session/refresh": "the refresh cookie is the credential",
    "GET /v1/plans": "the price list",
    "GET /v1/voices": "the voice catalogue",
    "GET /v1/voices/{id}/sample": "a catalogue voice's sample",
    "GET /v1/files/{id}": "a signed URL is the credential (tests/platform/test_files.py)",
    "GET /v1/tts/stream": "a WebSocket: credentials in its query (tests/platform/test_tts_service.py)",
}


def _operations(settings: Settings) -> dict[str, bool]:
    """Every operation of the schema ("METHOD /path" with ids as {id}) -> whether it declares security."""
    found: dict[str, bool] = {}
    for path, operations in create_app(settings).openapi()["paths"].items():
        for method, operation in operations.items():
            found[f"{method.upper()} {re.sub(r'{[^}]+}', '{id}', path)}"] = bool(operation.get("security"))
    return found


def test_every_public_operation_is_listed_with_why(platform_settings: Settings) -> None:
    operations = _operations(platform_settings)
    open_ones = {name for name, secured in operations.items() if not secured}
    assert open_ones == set(PUBLIC), (
        f"operations without a security requirement that PUBLIC does not list: {sorted(open_ones - set(PUBLIC))}; "
        f"listed but secured or gone: {sorted(set(PUBLIC) - open_ones)}"
    )


@dataclass
class Credentials:
    """Bad credentials of every kind, each made from a real account (the victim) where it can be."""

    victim: users.TestUser
    headers: dict[str, dict[str, str]]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _with_claims(token: str, **changes: object) -> str:
    """``token`` with its claims changed and its signature kept: what an attacker can make."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return ".".join([header, _b64(json.dumps({**claims, **changes}).encode()), signature])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def credentials(gateway_url: str, platform_settings: Settings) -> Iterator[Credentials]:
    secret = platform_settings.secret_key
    with httpx.Client(base_url=gateway_url, timeout=30.0) as client:
        victim, other, logged_out = users.signup(client), users.signup(client), users.signup(client)
        created = client.post("/v1/api-keys", json={"name": "soon revoked"}, headers=victim.headers).json()
        revoked = client.delete(f"/v1/api-keys/{created['id']}", headers=victim.headers)
        assert revoked.status_code == 204, revoked.text
        logout = client.post(
            "/v1/auth/logout", json={"refresh_token": logged_out.refresh_token}, headers=logged_out.headers
        )
        assert logout.status_code == 204, logout.text
        victim_id = uuid.UUID(victim.user_id)
        claims = {"sub": victim.user_id, "typ": "access", "jti": str(uuid.uuid4()), "exp": 4_102_444_800}
        headers = {
            "anonymous": {},
            "not a token": _bearer("not-a-token"),
            "tampered: another user's id, the victim's signature": _bearer(
                _with_claims(victim.access_token, sub=other.user_id)
            ),
            "tampered: expiry moved": _bearer(_with_claims(victim.access_token, exp=4_102_444_800)),
            "unsigned (alg none)": _bearer(jwt.encode(claims, key=None, algorithm="none")),
            "signed with another key": _bearer(jwt.encode(claims, "another-secret-" * 4, algorithm=JWT_ALGORITHM)),
            "expired": _bearer(issue_token(secret, victim_id, "access", ttl_s=-60)),
            "refresh token as access token": _bearer(victim.refresh_token),
            "of a user who does not exist": _bearer(issue_token(secret, uuid.uuid4(), "access", ttl_s=900)),
            "logged out": logged_out.headers,
            "revoked API key": {"X-API-Key": created["key"]},
            "revoked API key as bearer": _bearer(created["key"]),
            "made-up API key": {"X-API-Key": "nk_" + "x" * 43},
        }
        assert list(headers) == BAD_CREDENTIALS
        yield Credentials(victim, headers)


BAD_CREDENTIALS = [
    "anonymous",
    "not a token",
    "tampered: another user's id, the victim's signature",
    "tampered: expiry moved",
    "unsigned (alg none)",
    "signed with another key",
    "expired",
    "refresh token as access token",
    "of a user who does not exist",
    "logged out",
    "revoked API key",
    "revoked API key as bearer",
    "made-up API key",
]


def _secured_operations() -> list[str]:
    settings = Settings(ENV="test")  # type: ignore[call-arg]  # the route table only; nothing is served
    return sorted(name for name, secured in _operations(settings).items() if secured)


@pytest.mark.parametrize("credential", BAD_CREDENTIALS)
@pytest.mark.parametrize("operation", _secured_operations())
def test_every_secured_operation_refuses_every_bad_credential(
    client: httpx.Client, credentials: Credentials, operation: str, credential: str
) -> None:
    method, path = operation.split(" ", 1)
    url = path.replace("{id}", str(uuid.uuid4()))
    body = {} if method in ("POST", "PUT", "PATCH") else None
    response = client.request(method, url, json=body, headers=credentials.headers[credential])
    assert_hidden(response, 401)
    assert response.json()["error"]["hint"], "every refusal says what to do"


BAD_REFRESH_TOKENS = [
    "not a token",
    "tampered: another user's id",
    "unsigned (alg none)",
    "signed with another key",
    "expired",
    "access token as refresh token",
    "signed, but never issued",
    "revoked by logout",
]


@pytest.fixture(scope="module")
def refresh_tokens(gateway_url: str, platform_settings: Settings) -> dict[str, str]:
    """Bad refresh tokens of every kind: the refresh token is the credential of the public refresh routes."""
    secret = platform_settings.secret_key
    with httpx.Client(base_url=gateway_url, timeout=30.0) as client:
        victim, other, logged_out = users.signup(client), users.signup(client), users.signup(client)
        assert client.post("/v1/auth/logout", json={"refresh_token": logged_out.refresh_token}).status_code == 204
    victim_id = uuid.UUID(victim.user_id)
    claims = {"sub": victim.user_id, "typ": "refresh", "jti": str(uuid.uuid4()), "exp": 4_102_444_800}
    tokens = {
        "not a token": "not-a-token",
        "tampered: another user's id": _with_claims(victim.refresh_token, sub=other.user_id),
        "unsigned (alg none)": jwt.encode(claims, key=None, algorithm="none"),
        "signed with another key": jwt.encode(claims, "another-secret-" * 4, algorithm=JWT_ALGORITHM),
        "expired": issue_token(secret, victim_id, "refresh", ttl_s=-60),
        "access token as refresh token": victim.access_token,
        "signed, but never issued": issue_token(secret, victim_id, "refresh", ttl_s=900),
        "revoked by logout": logged_out.refresh_token,
    }
    assert list(tokens) == BAD_REFRESH_TOKENS
    return tokens


# Logging out is idempotent (neura.accounts.tokens.revoke_refresh_token): a genuine token, revoked or
# not, is "logged out" afterwards either way. Only NEURA's key can sign one.
LOGGED_OUT_ANYWAY = {"signed, but never issued", "revoked by logout"}


@pytest.mark.parametrize("token", BAD_REFRESH_TOKENS)
@pytest.mark.parametrize("route", ["/v1/auth/refresh", "/v1/auth/logout"])
def test_the_refresh_routes_refuse_every_bad_refresh_token(
    client: httpx.Client, refresh_tokens: dict[str, str], route: str, token: str
) -> None:
    response = client.post(route, json={"refresh_token": refresh_tokens[token]})
    if route.endswith("/logout") and token in LOGGED_OUT_ANYWAY:
        assert response.status_code == 204, response.text
    else:
        assert_hidden(response, 401)
        assert "access_token" not in response.text


def _websocket_paths() -> list[str]:
    """Every WebSocket route of the app (they are not in the OpenAPI schema), ids as {id}."""

    def walk(routes: list[object]) -> Iterator[object]:
        for route in routes:
            inner = getattr(route, "original_router", None)  # a router included in another
            yield from walk(inner.routes) if inner is not None else [route]

    app = create_app(Settings(ENV="test"))  # type: ignore[call-arg]
    found = {re.sub(r"{[^}]+}", "{id}", r.path) for r in walk(app.router.routes) if isinstance(r, APIWebSocketRoute)}
    assert found, "the walk found no WebSocket route: has FastAPI's route table changed shape?"
    return sorted(found)


@pytest.mark.parametrize("credential", BAD_CREDENTIALS)
@pytest.mark.parametrize("path", _websocket_paths())
def test_every_websocket_refuses_every_bad_credential(
    gateway_url: str, credentials: Credentials, path: str, credential: str
) -> None:
    """A refused WebSocket sends one error message, then closes with 4401 (4000 + the HTTP status)."""
    url = gateway_url.replace("http://", "ws://") + path.replace("{id}", str(uuid.uuid4()))
    with connect(url, additional_headers=credentials.headers[credential], open_timeout=10) as socket:
        error = json.loads(socket.recv(timeout=10))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert error["type"] == "error", error
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401, closed.value


def test_the_bad_credentials_changed_nothing_for_their_victim(
    client: httpx.Client, credentials: Credentials, platform_settings: Settings
) -> None:
    """Runs after the matrix (file order): the victim's account is as sign-up left it, bar the revoked key."""
    headers = credentials.victim.headers
    assert client.get("/v1/me", headers=headers).json()["credits"] == platform_settings.signup_credits
    assert len(client.get("/v1/me/credits", headers=headers).json()["items"]) == 1, "only the sign-up grant"
    for listing in ("/v1/videos", "/v1/avatars", "/v1/webhooks", "/v1/api-keys"):
        assert client.get(listing, headers=headers).json()["items"] == [], listing
