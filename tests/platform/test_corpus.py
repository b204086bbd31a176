"""The hostile-input corpus (tests/corpus) against the real gateway: every refusal is the status and
error code the case names, in NEURA's error body with a hint, and leaves the user's credits, avatars,
videos, ledger and stored files as they were; every odd-but-usable input is accepted and handled."""

from __future__ import annotations

import httpx
import pytest

from neura.config import Settings
from tests.corpus.cases import CASES, ApiCase
from tests.platform import users
from tests.platform.db import fetchval


def footprint(database_url: str, settings: Settings, user: users.TestUser) -> tuple[object, ...]:
    """Everything a request could have stored or charged for this user."""
    one = "SELECT {} FROM {} WHERE {} = $1::uuid"
    stored = settings.storage_dir / "users" / user.user_id
    return (
        fetchval(database_url, one.format("credits", "users", "id"), user.user_id),
        fetchval(database_url, one.format("count(*)", "avatars", "user_id"), user.user_id),
        fetchval(database_url, one.format("count(*)", "videos", "user_id"), user.user_id),
        fetchval(database_url, one.format("count(*)", "credit_ledger", "user_id"), user.user_id),
        sorted(str(p) for p in stored.rglob("*")) if stored.exists() else [],
    )


def test_the_corpus_covers_every_kind_of_input() -> None:
    kinds = {case.kind for case in CASES}
    assert kinds == {"image", "audio", "text", "json", "header"}
    assert len({case.name for case in CASES}) == len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_corpus_case(client: httpx.Client, database_url: str, platform_settings: Settings, case: ApiCase) -> None:
    user = users.signup(client)
    before = footprint(database_url, platform_settings, user)
    request = case.request()
    request["headers"] = {**user.headers, **request.get("headers", {})}
    response = client.request(case.method, case.path, timeout=120, **request)
    assert response.status_code == case.status, response.text[:500]
    if case.refused:
        error = response.json()["error"]
        assert error["message"] and "hint" in error, error
        if case.code:
            assert error["code"] == case.code, error
        assert "X-Credits-Charged" not in response.headers
        assert footprint(database_url, platform_settings, user) == before
    elif case.check:
        case.check(response)
