"""Text PostgreSQL cannot store (U+0000) or UTF-8 cannot encode (lone surrogates) is refused with a 422
that names the field, on every route family, and nothing is stored; every string a route accepts is
checked (a route added without the check fails here)."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from inspect import isclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, StringConstraints

from neura.config import Settings
from neura.gateway.app import create_app
from neura.gateway.schemas.text import STORABLE
from neura.storable import unstorable_reason
from tests.platform import users
from tests.platform.db import fetchval

NUL = "\u0000"


def post_surrogate(client: httpx.Client, path: str, fields: dict[str, str], headers: dict[str, str]) -> httpx.Response:
    """POST a JSON object whose values are written as given, so that '\\ud800' arrives as a lone surrogate."""
    body = ("{" + ",".join(f'"{k}":"{v}"' for k, v in fields.items()) + "}").encode()
    return client.post(path, content=body, headers={**headers, "Content-Type": "application/json"})


def assert_names_field(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert f"{field}: must not contain" in error["message"], error["message"]


# --- every string a route accepts is checked


def _constraint(item: Any) -> bool:
    """A length, pattern or whitespace rule (pydantic applies it after any validator listed before it)."""
    return isinstance(item, annotated_types.BaseMetadata | annotated_types.GroupedMetadata | StringConstraints)


def _unchecked(annotation: Any, metadata: list[Any], where: str, seen: set[type], outer: bool = False) -> Iterator[str]:
    """Strings in ``annotation`` without the check, or with it before their constraints (``outer``: the
    field has constraints that apply after everything inside its annotation)."""
    index = next((i for i, item in enumerate(metadata) if item is STORABLE), None)
    if index is not None:
        if outer or any(_constraint(item) for item in metadata[index + 1 :]):
            yield f"{where} (STORABLE must come after the length/pattern constraints)"
        return
    outer = outer or any(_constraint(item) for item in metadata)
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        yield from _unchecked(inner, extra, where, seen, outer)
    elif annotation is str:
        yield where
    elif origin in (Union, types.UnionType, list, tuple, set, frozenset, dict, typing.Sequence):
        for arm in get_args(annotation):
            yield from _unchecked(arm, [], where, seen, outer)
    elif origin is Literal:
        return
    elif isclass(annotation) and issubclass(annotation, BaseModel) and annotation not in seen:
        seen.add(annotation)
        for name, field in annotation.model_fields.items():
            yield from _unchecked(field.annotation, list(field.metadata), f"{where}.{name}", seen)


def _params(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.path_params + dependant.query_params + dependant.header_params
    yield from dependant.cookie_params + dependant.body_params
    for sub in dependant.dependencies:
        yield from _params(sub)


def test_every_string_a_route_accepts_is_checked() -> None:
    app = create_app(Settings(ENV="test"))  # type: ignore[call-arg]
    unchecked, routes = [], 0
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        routes += 1
        for param in _params(dependant):
            info = param.field_info
            where = f"{sorted(getattr(route, 'methods', None) or ['WS'])} {route.path} {param.name}"
            unchecked += _unchecked(info.annotation, list(info.metadata), where, set())
    assert routes > 40
    assert not unchecked, "strings without neura.gateway.schemas.text's check:\n" + "\n".join(unchecked)


def test_constraints_keep_their_own_messages(client: httpx.Client, user: users.TestUser) -> None:
    long_name = client.post("/v1/api-keys", json={"name": "x" * 101}, headers=user.headers)
    assert "String should have at most 100 characters" in long_name.json()["error"]["message"]
    blank = client.post("/v1/api-keys", json={"name": "   "}, headers=user.headers)  # stripped, then too short
    assert blank.status_code == 422 and "at least 1 character" in blank.json()["error"]["message"]
    long_cursor = client.get("/v1/videos", params={"cursor": "c" * 201}, headers=user.headers)
    assert "String should have at most 200 characters" in long_cursor.json()["error"]["message"]


def test_the_rule_itself() -> None:
    assert unstorable_reason("ordinary text, ünïcödé and emoji 🙂") is None
    assert "NUL" in (unstorable_reason(f"a{NUL}b") or "")
    assert "surrogate" in (unstorable_reason("a\ud800b") or "")
    assert "surrogate" in (unstorable_reason("\udfff") or "")


# --- each route family over HTTP


@pytest.fixture(scope="module")
def user(gateway_url: str) -> Iterator[users.TestUser]:
    with httpx.Client(base_url=gateway_url, timeout=30.0) as http:
        yield users.signup(http)


def test_accounts(client: httpx.Client, database_url: str) -> None:
    email = f"nul{NUL}@example.com"
    assert_names_field(client.post("/v1/auth/signup", json={"email": email, "password": users.PASSWORD}), "email")
    fields = {"email": "a\\ud800@example.com", "password": users.PASSWORD}
    assert_names_field(post_surrogate(client, "/v1/auth/signup", fields, {}), "email")
    body = {"email": "ok-nul@example.com", "password": users.PASSWORD + NUL}
    assert_names_field(client.post("/v1/auth/signup", json=body), "password")
    assert_names_field(client.post("/v1/auth/login", json={"email": email, "password": "x"}), "email")
    assert_names_field(client.post("/v1/auth/refresh", json={"refresh_token": f"a{NUL}"}), "refresh_token")
    assert fetchval(database_url, "SELECT count(*) FROM users WHERE email LIKE 'ok-nul%'") == 0


def test_api_keys_and_webhooks(client: httpx.Client, user: users.TestUser, database_url: str) -> None:
    assert_names_field(client.post("/v1/api-keys", json={"name": f"k{NUL}"}, headers=user.headers), "name")
    assert_names_field(post_surrogate(client, "/v1/api-keys", {"name": "k\\udc00"}, user.headers), "name")
    hook = {"url": f"https://example.com/{NUL}"}
    assert_names_field(client.post("/v1/webhooks", json=hook, headers=user.headers), "url")
    assert fetchval(database_url, "SELECT count(*) FROM api_keys WHERE user_id = $1::uuid", user.user_id) == 0


def test_videos(client: httpx.Client, user: users.TestUser, database_url: str) -> None:
    for field in ("script", "prompt"):
        response = client.post("/v1/videos", json={field: f"Hello{NUL} world."}, headers=user.headers)
        assert_names_field(response, field)
    assert_names_field(post_surrogate(client, "/v1/videos", {"script": "Hello \\ud800 world."}, user.headers), "script")
    assert_names_field(client.get("/v1/videos", params={"cursor": NUL}, headers=user.headers), "cursor")
    assert fetchval(database_url, "SELECT count(*) FROM videos WHERE user_id = $1::uuid", user.user_id) == 0


def test_speech(client: httpx.Client, user: users.TestUser) -> None:
    assert_names_field(client.post("/v1/tts", json={"text": f"Hi{NUL}."}, headers=user.headers), "text")
    assert_names_field(post_surrogate(client, "/v1/tts", {"text": "Hi \\ud800 there."}, user.headers), "text")
    body = {"model": "tts-1", "voice": "alloy", "input": f"Hi{NUL}."}
    assert_names_field(client.post("/v1/audio/speech", json=body, headers=user.headers), "input")
    form = {"transcript": f"hello{NUL}world"}
    files = {"audio": ("a.wav", b"RIFF", "audio/wav")}
    assert_names_field(client.post("/v1/align", data=form, files=files, headers=user.headers), "transcript")
    me = client.get("/v1/me", headers=user.headers).json()
    assert me["credits"] == 300  # nothing was charged


def test_avatar_name(client: httpx.Client, user: users.TestUser) -> None:
    files = {"file": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")}
    response = client.post("/v1/avatars", data={"name": f"me{NUL}"}, files=files, headers=user.headers)
    assert_names_field(response, "name")


def test_live_session_fields(client: httpx.Client, user: users.TestUser, database_url: str) -> None:
    response = client.post("/v1/live/sessions", json={"persona": f"a{NUL}b"}, headers=user.headers)
    assert_names_field(response, "persona")
    assert fetchval(database_url, "SELECT count(*) FROM live_sessions WHERE user_id = $1::uuid", user.user_id) == 0
