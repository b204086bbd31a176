"""The shared speech threads take the clause due soonest: a turn's first clause goes ahead of later
clauses of other sessions, cancelled work is skipped, and the pool behaves like an Executor otherwise.
The stage test synthesises with the real Piper voice."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from neura.config import Settings
from neura.live.deadlines import DeadlineExecutor
from neura.live.events import LiveEvent
from neura.live.frames import Frame, SpeakText, Speech
from neura.live.processor import Pipeline, Processor
from neura.live.tts_stage import TTSStage
from neura.tts import create_tts


@pytest.fixture
def pool() -> Iterator[DeadlineExecutor]:
    executor = DeadlineExecutor(max_workers=1, thread_name_prefix="test-deadlines")
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


def occupy(pool: DeadlineExecutor) -> threading.Event:
    """Keep the pool's only worker busy until the returned event is set."""
    release, started = threading.Event(), threading.Event()
    pool.submit(lambda: (started.set(), release.wait(5.0)))
    assert started.wait(5.0)
    return release


def test_the_job_due_first_runs_first_and_equal_deadlines_keep_their_order(pool: DeadlineExecutor) -> None:
    release = occupy(pool)
    ran: list[str] = []
    now = time.monotonic()
    futures = [
        pool.submit_by(now + 2.0, ran.append, "later clause of a speaking session"),
        pool.submit_by(now + 1.0, ran.append, "clause due in a second"),
        pool.submit_by(now, ran.append, "first clause of a new turn"),
        pool.submit_by(now, ran.append, "first clause of another new turn"),
    ]
    assert pool.queued == 4
    release.set()
    for future in futures:
        future.result(5.0)
    assert ran == [
        "first clause of a new turn",
        "first clause of another new turn",
        "clause due in a second",
        "later clause of a speaking session",
    ]


def test_a_job_cancelled_while_it_waits_is_skipped_and_errors_reach_the_caller(pool: DeadlineExecutor) -> None:
    release = occupy(pool)
    ran: list[str] = []
    cancelled = pool.submit(ran.append, "interrupted turn")
    failing = pool.submit(lambda: 1 / 0)
    assert cancelled.cancel()
    release.set()
    with pytest.raises(ZeroDivisionError):
        failing.result(5.0)
    assert ran == []


def test_shutdown_cancels_waiting_jobs_when_asked_and_refuses_new_ones() -> None:
    pool = DeadlineExecutor(max_workers=2)
    release, started = threading.Event(), threading.Semaphore(0)

    def job() -> bool:
        started.release()
        return release.wait(5.0)

    running = [pool.submit(job) for _ in range(2)]
    assert all(started.acquire(timeout=5.0) for _ in running)  # both workers busy: the next one waits
    waiting = pool.submit(time.sleep, 0)
    pool.shutdown(wait=False, cancel_futures=True)
    assert waiting.cancelled()
    with pytest.raises(RuntimeError):
        pool.submit(time.sleep, 0)
    release.set()
    assert all(f.result(5.0) for f in running)


async def test_run_in_executor_uses_it_like_any_executor(pool: DeadlineExecutor) -> None:
    assert await asyncio.get_running_loop().run_in_executor(pool, sum, [1, 2, 3]) == 6


class Collect(Processor):
    def __init__(self, name: str, arrivals: list[tuple[str, int]]) -> None:
        super().__init__()
        self.label, self.arrivals = name, arrivals

    async def process(self, frame: Frame) -> None:
        if isinstance(frame, Speech):
            self.arrivals.append((self.label, frame.index))


async def test_a_first_clause_overtakes_later_clauses_of_sessions_that_are_speaking(pool: DeadlineExecutor) -> None:
    """Three sessions share one speech thread: two are speaking (a second of speech queued each) and
    ask for their next clause; then a new turn's first clause arrives. It is synthesised first."""
    tts = create_tts(None, Settings(_env_file=None))
    arrivals: list[tuple[str, int]] = []
    events: list[LiveEvent] = []
    pipelines = {
        name: Pipeline(
            [TTSStage(tts, pool, queued_s=lambda q=queued_s: q), Collect(name, arrivals)],
            events.append,
        )
        for name, queued_s in (("speaking-1", 1.0), ("speaking-2", 1.0), ("new turn", 0.0))
    }
    for pipeline in pipelines.values():
        pipeline.start()
    release = occupy(pool)
    await pipelines["speaking-1"].push(SpeakText(1, "and that is why the sea is salty.", 3))
    await pipelines["speaking-2"].push(SpeakText(1, "which is where the whales live.", 2))
    await pipelines["new turn"].push(SpeakText(1, "Sure,", 0))
    deadline = time.monotonic() + 5.0
    while pool.queued < 3 and time.monotonic() < deadline:  # the three clauses wait for the thread
        await asyncio.sleep(0.005)
    release.set()
    while len(arrivals) < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    for pipeline in pipelines.values():
        await pipeline.stop()
    assert arrivals == [("new turn", 0), ("speaking-1", 3), ("speaking-2", 2)]


def test_a_job_that_runs_alone_holds_back_the_others_but_never_waits_for_a_running_one() -> None:
    """First clauses run alone: with two workers, nothing starts while one runs (two syntheses of two
    threads each would share two cores), but one starts while a later clause is being synthesised."""
    pool = DeadlineExecutor(max_workers=2, thread_name_prefix="test-alone")
    events: list[str] = []
    lock = threading.Lock()

    def job(name: str, release: threading.Event, started: threading.Event) -> None:
        with lock:
            events.append(f"{name} starts")
        started.set()
        release.wait(5.0)
        with lock:
            events.append(f"{name} ends")

    def gates() -> tuple[threading.Event, threading.Event]:
        return threading.Event(), threading.Event()

    try:
        (later_go, later_on), (first_go, first_on), (second_go, second_on), (next_go, next_on) = (
            gates() for _ in range(4)
        )
        now = time.monotonic()
        pool.submit_by(now + 1.0, job, "later clause", later_go, later_on)
        assert later_on.wait(5.0)
        pool.submit_alone_by(now, job, "first clause", first_go, first_on)
        assert first_on.wait(5.0), "a job that runs alone waited for one already running"
        pool.submit_alone_by(now, job, "another first clause", second_go, second_on)
        pool.submit_by(now + 2.0, job, "next later clause", next_go, next_on)
        later_go.set()  # a worker is free now: still nothing starts while the first clause runs
        assert not second_on.wait(0.2) and not next_on.is_set()
        first_go.set()
        assert second_on.wait(5.0)
        assert not next_on.wait(0.2), "a job started beside one that runs alone"
        second_go.set()
        assert next_on.wait(5.0)
        next_go.set()
        deadline = time.monotonic() + 5.0
        while len(events) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert events == [
            "later clause starts",
            "first clause starts",
            "later clause ends",
            "first clause ends",
            "another first clause starts",
            "another first clause ends",
            "next later clause starts",
            "next later clause ends",
        ]
    finally:
        pool.shutdown(wait=True)
