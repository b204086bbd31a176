"""The video API without a worker: submission rules, credits, idempotency, listing, cancelling and
deleting queued videos, and the sweeper's repairs (run in-process). Rendering is in test_worker.py."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from neura.billing import credits_to_reserve
from neura.config import Settings
from neura.jobs.context import WorkerContext
from neura.jobs.queue import render_job_id
from neura.jobs.sweeper import SweepReport, sweep_once
from neura.script.schema import count_words
from tests.platform import users
from tests.platform.conftest import METRICS_HEADERS
from tests.platform.db import fetchval
from tests.platform.videos import SHORT_SCRIPT, balance, get, ledger, set_account, submit
from tests.platform.workers import clear_queues

PROMPT = {"prompt": "why is the sky blue", "duration_s": 20, "resolution": "512"}


@pytest.fixture(scope="module", autouse=True)
def empty_queue(platform_settings: Settings) -> Iterator[None]:
    clear_queues(platform_settings)
    yield
    clear_queues(platform_settings)  # nothing here is meant to be rendered


@pytest.fixture
def user(client: httpx.Client, database_url: str) -> users.TestUser:
    user = users.signup(client)
    set_account(database_url, user, plan="pro", credits=1000)
    return user


def test_submit_is_accepted_queued_and_reserves_credits(
    client: httpx.Client, user: users.TestUser, database_url: str, redis_url: str
) -> None:
    response = client.post("/v1/videos", json={"script": SHORT_SCRIPT, "resolution": "512"}, headers=user.headers)
    assert response.status_code == 202, response.text
    video = response.json()
    assert response.headers["location"] == f"/v1/videos/{video['id']}"
    assert video["status"] == "queued" and video["stage"] == "queued" and video["progress"] == 0
    target_s = count_words(SHORT_SCRIPT) / 2.5
    assert video["target_duration_s"] == pytest.approx(target_s, abs=0.01)
    assert video["credits_reserved"] == credits_to_reserve(target_s)
    assert balance(database_url, user) == 1000 - video["credits_reserved"]
    assert ledger(database_url, video["id"]) == [("reserve", -video["credits_reserved"])]
    assert get(client, user, video["id"])["status"] == "queued"
    with redis.Redis.from_url(redis_url) as queue:
        assert queue.exists(f"arq:job:{render_job_id(video['id'], 0)}"), "the render job was not enqueued"


def test_a_prompt_reserves_for_its_duration(client: httpx.Client, user: users.TestUser) -> None:
    video = submit(client, user, **PROMPT)
    assert video["credits_reserved"] == math.ceil(20 * 1.25)
    assert video["prompt"] == PROMPT["prompt"] and video["script"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"resolution": "512"},  # neither prompt nor script
        {"prompt": "x", "script": "Hello.", "resolution": "512"},  # both
        {"script": "Hello.", "resolution": "4k"},
        {"script": "Hello.", "background": "red"},
        {"script": "Hello.", "voice": "robot"},
        {"prompt": "x", "duration_s": 1},
        {"script": "Hello.", "unknown": 1},
        {"script": "   "},
        {"script": "!!! ???"},  # nothing a voice could say: refused now, not failed by the worker later
        {"script": "Hello.", "voice": "piper:no_such_voice"},
    ],
)
def test_bad_requests_are_422_and_reserve_nothing(
    client: httpx.Client, user: users.TestUser, database_url: str, body: dict[str, object]
) -> None:
    response = client.post("/v1/videos", json=body, headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"]
    assert balance(database_url, user) == 1000


def test_a_voice_whose_engine_is_not_installed_is_503_at_once(
    client: httpx.Client, user: users.TestUser, database_url: str
) -> None:
    response = client.post("/v1/videos", json={"script": "Hello.", "voice": "xtts"}, headers=user.headers)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "engine_unavailable" and response.json()["error"]["hint"]
    assert balance(database_url, user) == 1000


def test_plan_limits(client: httpx.Client, database_url: str) -> None:
    user = users.signup(client)  # free plan: 60 s, one video at a time
    too_long = client.post("/v1/videos", json={"prompt": "x", "duration_s": 90}, headers=user.headers)
    assert too_long.status_code == 403 and "60 s" in too_long.json()["error"]["message"]
    first = submit(client, user)
    second = client.post("/v1/videos", json={"script": SHORT_SCRIPT}, headers=user.headers)
    assert second.status_code == 429, second.text
    assert "at a time" in second.json()["error"]["message"] and int(second.headers["retry-after"]) > 0
    client.post(f"/v1/videos/{first['id']}/cancel", headers=user.headers)
    assert submit(client, user)["status"] == "queued"  # the slot is free again


def test_too_few_credits_is_402_and_changes_nothing(client: httpx.Client, database_url: str) -> None:
    user = users.signup(client)
    set_account(database_url, user, credits=3)
    response = client.post("/v1/videos", json={"prompt": "x", "duration_s": 10}, headers=user.headers)
    assert response.status_code == 402, response.text
    assert balance(database_url, user) == 3
    assert fetchval(database_url, "SELECT count(*) FROM videos WHERE user_id = $1", uuid.UUID(user.user_id)) == 0


def test_idempotency_key_returns_the_same_video_once(
    client: httpx.Client, user: users.TestUser, database_url: str
) -> None:
    headers = {**user.headers, "Idempotency-Key": f"order-{uuid.uuid4()}"}
    first = client.post("/v1/videos", json={"script": SHORT_SCRIPT, "resolution": "512"}, headers=headers)
    again = client.post("/v1/videos", json={"script": SHORT_SCRIPT, "resolution": "512"}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert balance(database_url, user) == 1000 - first.json()["credits_reserved"]
    different = client.post("/v1/videos", json={"script": "Something else.", "resolution": "512"}, headers=headers)
    assert different.status_code == 409, different.text


def test_list_is_newest_first_with_cursor_and_status_filter(client: httpx.Client, user: users.TestUser) -> None:
    ids = [submit(client, user)["id"] for _ in range(3)]
    client.post(f"/v1/videos/{ids[0]}/cancel", headers=user.headers)
    page = client.get("/v1/videos", params={"limit": 2}, headers=user.headers).json()
    assert [v["id"] for v in page["items"]] == [ids[2], ids[1]] and page["next_cursor"]
    rest = client.get("/v1/videos", params={"limit": 2, "cursor": page["next_cursor"]}, headers=user.headers).json()
    assert [v["id"] for v in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    cancelled = client.get("/v1/videos", params={"status": "cancelled"}, headers=user.headers).json()
    assert [v["id"] for v in cancelled["items"]] == [ids[0]]
    bad = client.get("/v1/videos", params={"cursor": "not-a-cursor"}, headers=user.headers)
    assert bad.status_code == 422


@pytest.mark.parametrize(
    "created",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1000-01-01T00:00:00+00:00", "[[[]]]", "nope"],
)
def test_a_forged_cursor_is_422(client: httpx.Client, user: users.TestUser, created: str) -> None:
    raw = json.dumps([created, str(uuid.uuid4())]).encode()
    forged = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = client.get("/v1/videos", params={"cursor": forged}, headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == "the cursor is not valid"


def test_cancel_a_queued_video_refunds_at_once(client: httpx.Client, user: users.TestUser, database_url: str) -> None:
    video = submit(client, user)
    response = client.post(f"/v1/videos/{video['id']}/cancel", headers=user.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "cancelled" and response.json()["credits_charged"] == 0
    assert balance(database_url, user) == 1000
    reserved = video["credits_reserved"]
    assert ledger(database_url, video["id"]) == [("reserve", -reserved), ("refund", reserved)]
    again = client.post(f"/v1/videos/{video['id']}/cancel", headers=user.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_delete_a_queued_video_refunds_and_forgets_it(
    client: httpx.Client, user: users.TestUser, database_url: str
) -> None:
    video = submit(client, user)
    assert client.delete(f"/v1/videos/{video['id']}", headers=user.headers).status_code == 204
    assert client.get(f"/v1/videos/{video['id']}", headers=user.headers).status_code == 404
    assert client.delete(f"/v1/videos/{video['id']}", headers=user.headers).status_code == 404
    assert balance(database_url, user) == 1000


def test_download_before_success_is_409(client: httpx.Client, user: users.TestUser) -> None:
    video = submit(client, user)
    response = client.get(f"/v1/videos/{video['id']}/download", headers=user.headers)
    assert response.status_code == 409, response.text
    client.post(f"/v1/videos/{video['id']}/cancel", headers=user.headers)


def test_unknown_video_is_404_and_anonymous_is_401(client: httpx.Client, user: users.TestUser) -> None:
    assert client.get(f"/v1/videos/{uuid.uuid4()}", headers=user.headers).status_code == 404
    assert client.get("/v1/videos").status_code == 401
    assert client.post("/v1/videos", json={"script": "Hi."}).status_code == 401


def test_job_metrics_are_exported(client: httpx.Client, user: users.TestUser) -> None:
    submit(client, user)
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        text = client.get("/metrics", headers=METRICS_HEADERS).text
        if 'neura_jobs{state="queued"}' in text and "neura_queue_depth" in text:
            # the job just submitted, queued or already taken by a worker (a fast machine takes it at once)
            waiting = [
                line
                for line in text.splitlines()
                if line.startswith(('neura_jobs{state="queued"}', 'neura_jobs{state="running"}'))
            ]
            if sum(float(line.split()[-1]) for line in waiting) >= 1:
                return
        time.sleep(0.5)
    raise AssertionError("neura_jobs / neura_queue_depth were not refreshed")


def test_sweeper_requeues_stale_runs_and_lost_jobs(
    client: httpx.Client, user: users.TestUser, platform_settings: Settings, database_url: str
) -> None:
    stale = submit(client, user)["id"]
    lost = submit(client, user)["id"]
    # a worker claimed `stale` and died long ago; `lost` never reached Redis (say the gateway crashed)
    fetchval(
        database_url,
        "UPDATE videos SET status = 'running', attempts = 1, worker_id = 'dead',"
        " heartbeat_at = now() - interval '1 hour' WHERE id = $1",
        uuid.UUID(stale),
    )
    fetchval(database_url, "UPDATE videos SET created_at = now() - interval '1 hour' WHERE id = $1", uuid.UUID(lost))
    queue = redis.Redis.from_url(platform_settings.redis_url)
    queue.delete(f"arq:job:{render_job_id(lost, 0)}")

    async def sweep() -> None:
        jobs = await WorkerContext.start(platform_settings, 1)
        try:
            report = await sweep_once(jobs)
            assert uuid.UUID(stale) in report.requeued and uuid.UUID(lost) in report.enqueued
        finally:
            await jobs.close()

    asyncio.run(sweep())
    after = get(client, user, stale)
    assert after["status"] == "queued" and after["attempts"] == 1 and "stopped" in after["error"]
    assert queue.exists(f"arq:job:{render_job_id(stale, 1)}")
    assert queue.exists(f"arq:job:{render_job_id(lost, 0)}")
    queue.close()


def test_sweeper_frees_a_job_whose_worker_died_before_claiming_it(
    client: httpx.Client, user: users.TestUser, platform_settings: Settings, database_url: str
) -> None:
    """A worker SIGKILLed between taking a job and claiming its video leaves arq's in-progress mark for
    the job's whole timeout; re-enqueueing is refused (the job exists), so only removing the mark frees it."""
    video = submit(client, user)["id"]
    fetchval(database_url, "UPDATE videos SET created_at = now() - interval '1 hour' WHERE id = $1", uuid.UUID(video))
    job = render_job_id(video, 0)
    queue = redis.Redis.from_url(platform_settings.redis_url)
    queue.set(f"arq:in-progress:{job}", b"1", px=(platform_settings.job_time_limit_s + 310) * 1000)

    async def sweep() -> SweepReport:
        jobs = await WorkerContext.start(platform_settings, 1)
        try:
            return await sweep_once(jobs)
        finally:
            await jobs.close()

    report = asyncio.run(sweep())
    assert uuid.UUID(video) in report.released and uuid.UUID(video) not in report.enqueued
    assert not queue.exists(f"arq:in-progress:{job}") and queue.exists(f"arq:job:{job}")
    assert uuid.UUID(video) not in asyncio.run(sweep()).released  # nothing held it any more
    queue.close()


def test_sweeper_gives_up_after_max_tries(
    client: httpx.Client, user: users.TestUser, platform_settings: Settings, database_url: str
) -> None:
    video = submit(client, user)
    fetchval(
        database_url,
        "UPDATE videos SET status = 'running', attempts = $2, worker_id = 'dead',"
        " heartbeat_at = now() - interval '1 hour' WHERE id = $1",
        uuid.UUID(video["id"]),
        platform_settings.job_max_tries,
    )

    async def sweep() -> None:
        jobs = await WorkerContext.start(platform_settings, 1)
        try:
            await sweep_once(jobs)
        finally:
            await jobs.close()

    asyncio.run(sweep())
    after = get(client, user, video["id"])
    assert after["status"] == "failed" and "giving up" in after["error"]
    reserved = video["credits_reserved"]
    assert ledger(database_url, video["id"]) == [("reserve", -reserved), ("refund", reserved)]


def test_sweeper_prunes_refresh_tokens_expired_over_a_day_ago(
    client: httpx.Client, platform_settings: Settings, database_url: str
) -> None:
    user = users.signup(client)
    for _ in range(2):
        assert client.post("/v1/auth/login", json={"email": user.email, "password": users.PASSWORD}).status_code == 200
    ids = list(
        fetchval(
            database_url,
            "SELECT array_agg(id ORDER BY created_at) FROM refresh_tokens WHERE user_id = $1",
            uuid.UUID(user.user_id),
        )
    )
    assert len(ids) == 3  # signup + two logins
    long_ago, recently, live = ids
    fetchval(database_url, "UPDATE refresh_tokens SET expires_at = now() - interval '2 days' WHERE id = $1", long_ago)
    fetchval(database_url, "UPDATE refresh_tokens SET expires_at = now() - interval '1 hour' WHERE id = $1", recently)

    async def sweep() -> int:
        jobs = await WorkerContext.start(platform_settings, 1)
        try:
            return (await sweep_once(jobs)).refresh_tokens_pruned
        finally:
            await jobs.close()

    assert asyncio.run(sweep()) >= 1
    left = fetchval(
        database_url,
        "SELECT array_agg(id ORDER BY created_at) FROM refresh_tokens WHERE user_id = $1",
        uuid.UUID(user.user_id),
    )
    assert list(left) == [recently, live]
