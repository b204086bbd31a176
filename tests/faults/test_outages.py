"""PostgreSQL and Redis crash and come back while users keep calling the API and a worker renders:
while a server is down every request gets 503 with Retry-After (never a 500, never a dropped
connection), the gateway and the worker recover by themselves (no restart), and every video the API
accepted is rendered exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from neura.config import Settings
from tests.faults.load import Load
from tests.faults.services import OwnPostgres, OwnRedis
from tests.platform import users
from tests.platform.videos import get, ledger, set_account
from tests.platform.workers import WorkerProcess

DOWN_S = 2.0  # how long a server stays down
RECOVERY_S = 30.0  # the API answers normally again within this long of the server's return
FINISH_S = 300.0  # every accepted video has ended within this long (minutes on an overloaded machine)


@pytest.fixture(scope="module")
def worker(fault_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    process = WorkerProcess(fault_settings, tmp_path_factory.mktemp("worker") / "worker.log").start()
    yield process
    process.stop()


def outage_under_load(
    client: httpx.Client,
    gateway_url: str,
    database_url: str,
    worker: WorkerProcess,
    crash: Callable[[], None],
    restart: Callable[[], None],
) -> None:
    user = users.signup(client)
    set_account(database_url, user, plan="pro", credits=1000)  # several videos at a time
    with Load(gateway_url, user) as load:
        load.wait_for(202, 0.0, 30)  # the load is running: a video was accepted
        crashed_s = time.monotonic()
        crash()
        load.wait_for(503, crashed_s, 10)
        time.sleep(DOWN_S)
        restarted_s = time.monotonic()
        restart()
        recovered_s = load.wait_for(200, restarted_s, RECOVERY_S)
        time.sleep(1.0)
    during = load.since(crashed_s)
    broken = [(a.path, a.status, a.body) for a in during if a.status == 0 or (a.status >= 500 and a.status != 503)]
    assert not broken, broken
    unavailable = [a for a in during if a.status == 503]
    assert unavailable and all(a.retry_after and int(a.retry_after) > 0 for a in unavailable)
    assert all("service_unavailable" in a.body for a in unavailable), unavailable[0].body
    assert [a for a in load.since(recovered_s) if a.path != "/v1/videos" or a.method != "POST"], "no reads after"
    after = [(a.path, a.status, a.body) for a in load.since(recovered_s) if a.status not in (200, 202)]
    assert not after, f"errors after the recovery: {after}"

    assert worker.process is not None and worker.process.poll() is None, f"the worker died:\n{worker.log()}"
    for video_id in load.accepted:  # no job lost: each accepted video is rendered, and charged, once
        deadline = time.monotonic() + FINISH_S
        while (video := get(client, user, video_id))["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"{video_id} is still {video['status']}\n{worker.log()[-3000:]}"
            time.sleep(0.5)
        # a run whose heartbeat could not reach PostgreSQL for 3 beats is queued again (attempt 2) and the
        # first one discards its work when it finds its claim gone: completion stays exactly once
        assert video["status"] == "succeeded", (video, worker.log()[-3000:])
        reserved, charged = video["credits_reserved"], video["credits_charged"]
        assert ledger(database_url, video_id) == [("reserve", -reserved), ("settle", reserved - charged)]


def test_redis_crash_and_restart(
    client: httpx.Client, gateway_url: str, database_url: str, worker: WorkerProcess, own_redis: OwnRedis
) -> None:
    outage_under_load(client, gateway_url, database_url, worker, own_redis.stop, own_redis.start)


def test_postgres_crash_and_restart(
    client: httpx.Client, gateway_url: str, database_url: str, worker: WorkerProcess, own_postgres: OwnPostgres
) -> None:
    outage_under_load(client, gateway_url, database_url, worker, own_postgres.stop, own_postgres.start)
