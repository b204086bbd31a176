"""Credits under concurrency: many submissions at once never spend more than the balance holds, and
one Idempotency-Key never reserves twice."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from neura.billing import credits_to_reserve
from neura.config import Settings
from neura.script.schema import count_words
from tests.platform import users
from tests.platform.db import fetchval
from tests.platform.videos import SHORT_SCRIPT, balance, set_account
from tests.platform.workers import clear_queues

REQUESTS = 8
AFFORDABLE = 3
COST = credits_to_reserve(count_words(SHORT_SCRIPT) / 2.5)


@pytest.fixture(scope="module", autouse=True)
def empty_queue(platform_settings: Settings) -> Iterator[None]:
    yield
    clear_queues(platform_settings)  # nothing here is meant to be rendered


def submit_all_at_once(gateway_url: str, headers: dict[str, str], count: int) -> list[httpx.Response]:
    barrier = threading.Barrier(count)
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def post() -> None:
        with httpx.Client(base_url=gateway_url, timeout=60) as client:
            barrier.wait()
            response = client.post("/v1/videos", json={"script": SHORT_SCRIPT, "resolution": "512"}, headers=headers)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_parallel_submissions_spend_at_most_the_balance(
    client: httpx.Client, gateway_url: str, database_url: str
) -> None:
    user = users.signup(client)
    start = AFFORDABLE * COST + COST - 1  # enough for AFFORDABLE videos, one credit short of another
    set_account(database_url, user, plan="pro", credits=start)  # pro: 10 videos at a time
    responses = submit_all_at_once(gateway_url, user.headers, REQUESTS)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {202: AFFORDABLE, 402: REQUESTS - AFFORDABLE}, [r.text for r in responses]
    assert all(r.json()["error"]["code"] == "payment_required" for r in responses if r.status_code == 402)
    assert balance(database_url, user) == start - AFFORDABLE * COST >= 0
    reserves = fetchval(
        database_url,
        "SELECT count(*) FROM credit_ledger WHERE user_id = $1 AND reason = 'reserve'",
        uuid.UUID(user.user_id),
    )
    assert reserves == AFFORDABLE
    negative = fetchval(database_url, "SELECT count(*) FROM credit_ledger WHERE balance_after < 0")
    assert negative == 0


def test_parallel_retries_with_one_idempotency_key_make_one_video(
    client: httpx.Client, gateway_url: str, database_url: str
) -> None:
    user = users.signup(client)
    set_account(database_url, user, plan="pro", credits=1000)
    headers = {**user.headers, "Idempotency-Key": str(uuid.uuid4())}
    responses = submit_all_at_once(gateway_url, headers, REQUESTS)
    assert {r.status_code for r in responses} == {202}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert balance(database_url, user) == 1000 - COST
