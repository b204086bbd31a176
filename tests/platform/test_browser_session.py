"""Browser sessions over real HTTP: HttpOnly cookies set by the gateway, CSRF for cookie-authenticated
state-changing requests, Origin checks for cookie-authenticated streams, CORS from CORS_ORIGINS only.

Cookies are handled by hand (a ``Cookie`` header built from ``Set-Cookie``): Python's cookie jar never
sends ``Secure`` cookies over http, while browsers do on http://127.0.0.1 and http://localhost."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from neura.config import Settings
from neura.gateway.app import create_app
from tests.platform.users import PASSWORD, signup
from tests.servers import serve_in_thread


@dataclass
class Browser:
    """The cookies a browser keeps for the gateway's origin, and what it sends with each request."""

    cookies: dict[str, str]

    def header(self, *names: str) -> dict[str, str]:
        chosen = names or tuple(self.cookies)
        return {"Cookie": "; ".join(f"{n}={self.cookies[n]}" for n in chosen if n in self.cookies)}

    def csrf(self) -> dict[str, str]:
        return {**self.header(), "X-CSRF-Token": self.cookies["neura_csrf"]}

    def take(self, response: httpx.Response) -> None:
        for name, morsel in set_cookies(response).items():
            if morsel["max-age"] == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    found = {}
    for raw in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(raw)
        for name, morsel in jar.items():
            found[name] = morsel
    return found  # type: ignore[return-value]


def log_in(client: httpx.Client, email: str) -> tuple[httpx.Response, Browser]:
    response = client.post("/v1/auth/session", json={"email": email, "password": PASSWORD})
    browser = Browser({})
    browser.take(response)
    return response, browser


@pytest.fixture
def browser(client: httpx.Client) -> Browser:
    user = signup(client)
    response, browser = log_in(client, user.email)
    assert response.status_code == 200, response.text
    return browser


def test_login_sets_three_cookies_with_the_right_attributes(client: httpx.Client, platform_settings: Settings) -> None:
    user = signup(client)
    response, _ = log_in(client, user.email)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == user.email and "access_token" not in body and "refresh_token" not in body
    cookies = set_cookies(response)
    assert set(cookies) == {"neura_access", "neura_refresh", "neura_csrf"}
    access, refresh, csrf = cookies["neura_access"], cookies["neura_refresh"], cookies["neura_csrf"]
    assert (access["httponly"], access["secure"], access["samesite"], access["path"]) == (True, True, "lax", "/")
    assert access["max-age"] == str(platform_settings.access_token_ttl_s)
    assert (refresh["httponly"], refresh["secure"], refresh["samesite"]) == (True, True, "strict")
    assert refresh["path"] == "/v1/auth" and refresh["max-age"] == str(platform_settings.refresh_token_ttl_s)
    assert (csrf["httponly"], csrf["secure"], csrf["samesite"], csrf["path"]) == ("", True, "strict", "/")
    assert len(csrf.value) >= 32


def test_a_wrong_password_sets_no_cookie(client: httpx.Client) -> None:
    user = signup(client)
    response = client.post("/v1/auth/session", json={"email": user.email, "password": "wrong password!"})
    assert response.status_code == 401 and not set_cookies(response)


def test_cookie_authenticated_state_changes_need_the_csrf_header(client: httpx.Client, browser: Browser) -> None:
    me = client.get("/v1/me", headers=browser.header())  # reading needs no CSRF token
    assert me.status_code == 200, me.text
    create = {"name": "from the browser"}
    refused = client.post("/v1/api-keys", json=create, headers=browser.header())
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
    wrong = client.post("/v1/api-keys", json=create, headers={**browser.header(), "X-CSRF-Token": "guess"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "csrf"
    no_cookie = client.post(  # the header alone is not enough: it must match the cookie
        "/v1/api-keys",
        json=create,
        headers={**browser.header("neura_access"), "X-CSRF-Token": browser.cookies["neura_csrf"]},
    )
    assert no_cookie.status_code == 403
    accepted = client.post("/v1/api-keys", json=create, headers=browser.csrf())
    assert accepted.status_code == 201, accepted.text


def test_refresh_rotates_the_cookies(client: httpx.Client, browser: Browser) -> None:
    old = dict(browser.cookies)
    without_csrf = client.post("/v1/auth/session/refresh", headers=browser.header())
    assert without_csrf.status_code == 403 and without_csrf.json()["error"]["code"] == "csrf"
    response = client.post("/v1/auth/session/refresh", headers=browser.csrf())
    assert response.status_code == 204, response.text
    browser.take(response)
    assert all(browser.cookies[name] != old[name] for name in old), "every cookie is new"
    assert client.get("/v1/me", headers=browser.header()).status_code == 200
    replay = Browser(old)  # the old refresh cookie, used again: refused, and the cookies cleared
    reused = client.post("/v1/auth/session/refresh", headers=replay.csrf())
    assert reused.status_code == 401
    assert {name for name, m in set_cookies(reused).items() if m["max-age"] == "0"} == set(old)


def test_refresh_without_a_session_is_401(client: httpx.Client) -> None:
    response = client.post("/v1/auth/session/refresh")
    assert response.status_code == 401 and response.json()["error"]["code"] == "auth"


def test_logout_revokes_the_session_and_clears_the_cookies(client: httpx.Client, browser: Browser) -> None:
    old = dict(browser.cookies)
    refused = client.delete("/v1/auth/session", headers=browser.header())
    assert refused.status_code == 403  # no CSRF token: a page on another site cannot sign you out
    response = client.delete("/v1/auth/session", headers=browser.csrf())
    assert response.status_code == 204
    cleared = set_cookies(response)
    assert set(cleared) == set(old) and all(m["max-age"] == "0" for m in cleared.values())
    assert cleared["neura_refresh"]["path"] == "/v1/auth"
    stale = Browser(old)
    assert client.get("/v1/me", headers=stale.header()).status_code == 401  # the access token is revoked
    assert client.post("/v1/auth/session/refresh", headers=stale.csrf()).status_code == 401
    assert client.delete("/v1/auth/session").status_code == 204  # no session: nothing to end, still fine


def test_bearer_tokens_and_api_keys_need_no_csrf_header(client: httpx.Client, browser: Browser) -> None:
    user = signup(client)
    created = client.post("/v1/api-keys", json={"name": "script"}, headers=user.headers)
    assert created.status_code == 201, created.text
    key = {"X-API-Key": created.json()["key"]}
    assert client.post("/v1/webhooks", json={"url": "https://93.184.215.14/hook"}, headers=key).status_code == 201
    # explicit credentials win over a browser's cookies, and need no CSRF token
    both = client.post("/v1/api-keys", json={"name": "x"}, headers={**user.headers, **browser.header()})
    assert both.status_code == 201, both.text


def test_login_from_another_sites_page_is_refused(client: httpx.Client, gateway_url: str) -> None:
    user = signup(client)
    body = {"email": user.email, "password": PASSWORD}
    evil = client.post("/v1/auth/session", json=body, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and evil.json()["error"]["code"] == "origin" and not set_cookies(evil)
    own = client.post("/v1/auth/session", json=body, headers={"Origin": gateway_url})
    assert own.status_code == 200
    proxied = client.post(  # the web app's server forwards with X-Forwarded-Host (the browser's origin)
        "/v1/auth/session",
        json=body,
        headers={"Origin": "http://localhost:3000", "X-Forwarded-Host": "localhost:3000", "X-Forwarded-Proto": "http"},
    )
    assert proxied.status_code == 200


def test_cookie_authenticated_streams_check_the_origin(
    client: httpx.Client, browser: Browser, gateway_url: str
) -> None:
    path = f"/v1/videos/{uuid.uuid4()}/events"
    sse = {**browser.header(), "Accept": "text/event-stream"}
    evil = client.get(path, headers={**sse, "Origin": "https://evil.example"})
    assert evil.status_code == 403 and evil.json()["error"]["code"] == "origin"
    assert client.get(path, headers={**sse, "Origin": gateway_url}).status_code == 404  # passed: not a video
    ws = gateway_url.replace("http://", "ws://") + path + "/ws"
    assert ws_refusal(ws, {**browser.header(), "Origin": "https://evil.example"}) == (4403, "origin")
    assert ws_refusal(ws, {**browser.header(), "Origin": gateway_url}) == (4404, "not_found")
    assert ws_refusal(ws, {"Origin": gateway_url}) == (4401, "auth")


def ws_refusal(url: str, headers: dict[str, str]) -> tuple[int, str]:
    with connect(url, additional_headers=headers, open_timeout=10) as socket:
        error = json.loads(socket.recv(timeout=10))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, error["code"]


# --- CORS


@pytest.fixture(scope="module")
def cors_gateway(platform_settings: Settings) -> Iterator[str]:
    settings = platform_settings.model_copy(update={"cors_origins": "https://app.example, https://studio.example/"})
    with serve_in_thread(create_app(settings)) as url:
        yield url


def preflight(url: str, origin: str) -> httpx.Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-csrf-token",
    }
    return httpx.options(url + "/v1/videos", headers=headers)


def test_cors_preflight_from_a_listed_origin_passes(cors_gateway: str) -> None:
    for origin in ("https://app.example", "https://studio.example"):
        response = preflight(cors_gateway, origin)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"
        assert "POST" in response.headers["access-control-allow-methods"]
        assert "x-csrf-token" in response.headers["access-control-allow-headers"].lower()
    simple = httpx.get(cors_gateway + "/healthz", headers={"Origin": "https://app.example"})
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "ETag" in simple.headers["access-control-expose-headers"]


def test_cors_from_another_origin_gets_no_cors_headers(cors_gateway: str, gateway_url: str) -> None:
    for url in (cors_gateway, gateway_url):  # a listed gateway, and one with CORS_ORIGINS empty (the default)
        response = preflight(url, "https://evil.example")
        assert response.status_code in (400, 403)
        assert not [name for name in response.headers if name.lower().startswith("access-control-")]
        simple = httpx.get(url + "/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


def test_cookie_and_cors_settings_refuse_unsafe_values(platform_settings: Settings) -> None:
    with pytest.raises(ValueError, match="COOKIE_SECURE"):
        create_app(platform_settings.model_copy(update={"cookie_secure": False}))  # ENV=test
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        create_app(platform_settings.model_copy(update={"cors_origins": "*"}))
    create_app(platform_settings.model_copy(update={"cookie_secure": False, "env": "local"}))  # a LAN address


def test_without_cookie_secure_locally_cookies_drop_the_secure_flag(platform_settings: Settings) -> None:
    from fastapi import Response

    from neura.accounts.tokens import SessionTokens
    from neura.gateway.browser import set_session_cookies

    response = Response()
    local = platform_settings.model_copy(update={"cookie_secure": False, "env": "local"})
    set_session_cookies(response, local, SessionTokens("a", "r", 900))
    assert not any("secure" in raw.lower() for raw in response.headers.getlist("set-cookie"))
