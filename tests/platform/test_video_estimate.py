"""POST /v1/videos/estimate prices a body exactly as POST /v1/videos reserves for it, and reserves,
queues and charges nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from neura.billing import credits_for_video
from neura.config import Settings
from tests.platform import users
from tests.platform.db import fetchval
from tests.platform.videos import LONG_SCRIPT, SHORT_SCRIPT, balance, ledger, pro_member, set_account
from tests.platform.workers import clear_queues


@pytest.fixture(scope="module")
def user(gateway_url: str, database_url: str, platform_settings: Settings) -> Iterator[users.TestUser]:
    """A pro user (ten videos at a time). No worker runs here: what it submits is dropped from the queue."""
    yield pro_member(gateway_url, database_url)
    clear_queues(platform_settings)


def estimate(client: httpx.Client, user: users.TestUser, body: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/videos/estimate", json=body, headers=user.headers)


def videos_of(database_url: str, user: users.TestUser) -> int:
    return int(fetchval(database_url, "SELECT count(*) FROM videos WHERE user_id = $1::uuid", user.user_id))


@pytest.mark.parametrize(
    "body",
    [
        {"script": SHORT_SCRIPT},
        {"script": LONG_SCRIPT, "voice": "espeak:en-gb", "captions": True},
        {"prompt": "Why is the sky blue?"},
        {"prompt": "Explain photosynthesis", "duration_s": 47.3, "resolution": "720p"},
    ],
)
def test_the_estimate_is_what_the_submission_reserves(
    client: httpx.Client, user: users.TestUser, database_url: str, body: dict[str, Any]
) -> None:
    body = {"resolution": "512", **body}
    before, videos_before = balance(database_url, user), videos_of(database_url, user)
    response = estimate(client, user, body)
    assert response.status_code == 200, response.text
    quoted = response.json()
    assert balance(database_url, user) == before and videos_of(database_url, user) == videos_before  # nothing held

    submitted = client.post("/v1/videos", json=body, headers=user.headers)
    assert submitted.status_code == 202, submitted.text
    video = submitted.json()
    assert quoted["credits_reserved"] == video["credits_reserved"] == before - balance(database_url, user)
    assert ledger(database_url, video["id"]) == [("reserve", -quoted["credits_reserved"])]
    assert quoted["target_duration_s"] == video["target_duration_s"]
    assert quoted["voice"] == video["voice"]
    assert quoted["credits_expected"] == credits_for_video(video["target_duration_s"]) <= quoted["credits_reserved"]
    assert quoted["balance"] == before and quoted["enough_credits"] is True
    assert (quoted["plan"], quoted["max_video_s"]) == ("pro", 600)
    if "script" in body:
        assert quoted["words"] > 0
    else:
        assert quoted["words"] is None and quoted["target_duration_s"] == body.get("duration_s", 30)


def test_the_estimate_refuses_what_a_submission_refuses(
    client: httpx.Client, gateway_url: str, database_url: str
) -> None:
    member = users.signup(client)  # the free plan: videos up to 60 s
    long_script = " ".join(["word"] * 200)  # 80 s at 2.5 words a second
    for body, status, code in [
        ({"script": long_script}, 403, "forbidden"),
        ({"prompt": "x", "duration_s": 90}, 403, "forbidden"),
        ({"script": "— …"}, 422, "script"),
        ({"script": "Hi.", "voice": "shatner"}, 422, "unknown_voice"),
        ({"script": "Hi.", "voice": "xtts"}, 503, "engine_unavailable"),
        ({"script": "Hi.", "avatar_id": "00000000-0000-4000-8000-000000000000"}, 422, "input"),
        ({"script": "Hi.", "prompt": "Hi"}, 422, "invalid_request"),
    ]:
        for path in ("/v1/videos/estimate", "/v1/videos"):
            response = client.post(path, json=body, headers=member.headers)
            assert response.status_code == status, (path, body, response.text)
            assert response.json()["error"]["code"] == code, (path, response.json())
    assert client.post("/v1/videos/estimate", json={"script": "Hi."}).status_code == 401


def test_too_few_credits_is_said_not_refused(client: httpx.Client, database_url: str) -> None:
    member = users.signup(client)
    set_account(database_url, member, credits=3)
    quoted = estimate(client, member, {"script": SHORT_SCRIPT, "resolution": "512"}).json()
    assert quoted["credits_reserved"] > 3 and quoted["balance"] == 3 and quoted["enough_credits"] is False
    assert client.post("/v1/videos", json={"script": SHORT_SCRIPT}, headers=member.headers).status_code == 402
