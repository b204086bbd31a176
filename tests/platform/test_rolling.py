"""A short rolling restart for CI (``bench/rolling.py``, reduced): two API processes, two media
processes and two workers under a small load of API calls, video jobs and a live session; one of each
is restarted once (SIGTERM, drain, a new one). Nothing may fail: no 5xx or connection error, no video
lost or charged twice, no live session ended without a ``draining`` notice. Two of each kind, because
with one the clients would have nowhere to go while it restarts (an API process with no worker that
advertises the voice answers 503 ``no_capacity``, as it should). Redis database 14 (the bench's own is
15), a fresh PostgreSQL database."""

from __future__ import annotations

import json
import os

from bench.rolling import Member, options, rolling

REDIS_URL = os.environ.get("NEURA_TEST_ROLLING_REDIS_URL", "redis://127.0.0.1:6379/14")
RESTARTED = ("api-0", "media-0", "worker-0")


def restarted(member: Member) -> bool:
    return member.name in RESTARTED


def test_a_rolling_restart_under_load_fails_nothing_loses_nothing_and_drops_no_session() -> None:
    args = options(["--clients", "1", "--sessions", "1", "--video-every-s", "3", "--settle-s", "1"])
    results = rolling(args, redis_url=REDIS_URL, sizes=(2, 2, 2), restart=restarted, media_drain_s=5.0)
    shown = json.dumps(results, indent=1)
    assert sorted(results["drain_s"]) == sorted(RESTARTED), shown  # each was restarted and its successor ready
    assert results["requests_sent"] > 50 and results["videos_submitted"] >= 2 and results["live_sessions"] >= 1, shown
    assert results["failed_requests"] == 0, shown
    assert results["jobs_lost"] == 0, shown
    assert results["jobs_charged_twice"] == 0, shown
    assert results["sessions_dropped_without_notice"] == 0, shown
    assert results["video_statuses"] == {"succeeded": results["videos_submitted"]}, shown
