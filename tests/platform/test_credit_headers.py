"""Every paid answer says what it cost and what is left (``X-Credits-Charged``, ``X-Credits-Remaining``):
a video submission (its reservation) and its idempotent replay (nothing more); speech is covered in
test_speech_billing.py and a live session's opening in tests/live/test_sessions.py."""

from __future__ import annotations

import uuid

import httpx

from tests.platform.users import signup
from tests.platform.videos import SHORT_SCRIPT, balance


def test_a_video_submission_says_what_its_reservation_cost_and_a_replay_costs_nothing(
    client: httpx.Client, database_url: str
) -> None:
    user = signup(client)
    body = {"script": SHORT_SCRIPT, "resolution": "512"}
    headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/v1/videos", json=body, headers=headers)
    assert first.status_code == 202, first.text
    reserved = first.json()["credits_reserved"]
    assert first.headers["X-Credits-Charged"] == str(reserved) and reserved > 0
    assert int(first.headers["X-Credits-Remaining"]) == balance(database_url, user) == 300 - reserved

    replay = client.post("/v1/videos", json=body, headers=headers)
    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["X-Credits-Charged"] == "0"
    assert int(replay.headers["X-Credits-Remaining"]) == 300 - reserved

    cancelled = client.post(f"/v1/videos/{first.json()['id']}/cancel", headers=user.headers)
    assert cancelled.status_code == 202  # refunded; frees the free plan's one slot


def test_a_refused_submission_carries_no_credit_headers(client: httpx.Client) -> None:
    user = signup(client)
    refused = client.post("/v1/videos", json={"script": SHORT_SCRIPT, "duration_s": 3}, headers=user.headers)
    assert refused.status_code == 422
    assert "X-Credits-Charged" not in refused.headers


def test_the_openapi_schema_documents_the_headers_of_paid_answers(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method, status in [("/v1/videos", "post", "202"), ("/v1/live/sessions", "post", "201")]:
        headers = paths[path][method]["responses"][status]["headers"]
        assert {"X-Credits-Charged", "X-Credits-Remaining"} <= set(headers), path
