"""A thread pool that runs the job due soonest first: the speech synthesis every live session shares.

With a first-in-first-out pool, a session whose answer is just starting waits behind clauses that
other sessions will not play for seconds (their listeners are still hearing earlier ones): with four
sessions whose turns start together, first audio came 0.56-0.96 s after the message. Here each job
carries a deadline, when its result will be needed, and a free worker takes the earliest: a turn's
first clause is due at once (nothing of the turn is playing), a later clause when the speech queued
before it runs out. Jobs due at the same time keep their order, so sessions take turns fairly. A job
cancelled before it starts (its turn was interrupted) is skipped, not run.

A job may be submitted to run **alone** (:meth:`DeadlineExecutor.submit_alone_by`): no other job starts
while it runs (one already running goes on). A turn's first clause is synthesised that way, with two
threads of its own: when four sessions' answers start together, their first clauses run one after the
other, each with the cores to itself, instead of two at a time on two threads each (four threads on
two cores, and the avatars' frames starved): ``bench/live.py``'s four sessions whose messages are sent
together, first open-mouth frame p50 / p95 623 / 846 ms with two at a time, 503 / 721 and 464 / 724 ms
alone (three runs of 32-40 answers on one quiet 2-core machine, 2026-12-06). A first clause still starts
while a later clause of another session is being synthesised: it never waits for one.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(order=True)
class _Job:
    deadline_s: float
    arrival: int  # among jobs due at the same time, the first come goes first
    future: Future[Any] = field(compare=False)
    work: Callable[[], Any] = field(compare=False)
    alone: bool = field(default=False, compare=False)  # no other job starts while it runs


class DeadlineExecutor(Executor):
    def __init__(self, max_workers: int, thread_name_prefix: str = "neura-deadline") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self._prefix = thread_name_prefix
        self._jobs: list[_Job] = []  # a heap: the earliest deadline first
        self._arrivals = itertools.count()
        self._changed = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._shut_down = False
        self._alone_running = False  # a job that runs alone is running: nothing else starts

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Due now: what plain :class:`~concurrent.futures.Executor` users (``run_in_executor``) ask."""
        return self.submit_by(time.monotonic(), fn, *args, **kwargs)

    def submit_by(self, deadline_s: float, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` before any job due later (``deadline_s``: ``time.monotonic()`` time)."""
        return self._submit(deadline_s, False, functools.partial(fn, *args, **kwargs))

    def submit_alone_by(self, deadline_s: float, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """As :meth:`submit_by`, and no other job starts while this one runs (see the module docstring)."""
        return self._submit(deadline_s, True, functools.partial(fn, *args, **kwargs))

    def _submit(self, deadline_s: float, alone: bool, work: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._changed:
            if self._shut_down:
                raise RuntimeError("cannot schedule new futures after shutdown")
            heapq.heappush(self._jobs, _Job(deadline_s, next(self._arrivals), future, work, alone))
            if len(self._threads) < self.max_workers:
                self._start_worker()
            self._changed.notify()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Like :meth:`ThreadPoolExecutor.shutdown`: queued jobs still run unless ``cancel_futures``."""
        with self._changed:
            self._shut_down = True
            if cancel_futures:
                for job in self._jobs:
                    job.future.cancel()
                self._jobs.clear()
            self._changed.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker."""
        with self._changed:
            return len(self._jobs)

    def _start_worker(self) -> None:
        name = f"{self._prefix}_{len(self._threads)}"
        thread = threading.Thread(target=self._work, name=name, daemon=True)  # never holds up the exit
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while True:
            with self._changed:
                while (not self._jobs or self._alone_running) and not self._shut_down:
                    self._changed.wait()
                if not self._jobs:
                    return
                job = heapq.heappop(self._jobs)
                if not job.future.set_running_or_notify_cancel():
                    continue
                self._alone_running = job.alone
            try:
                result = job.work()
            except BaseException as error:  # handed to whoever awaits the future, as ThreadPoolExecutor does
                job.future.set_exception(error)
            else:
                job.future.set_result(result)
            finally:
                if job.alone:
                    with self._changed:
                        self._alone_running = False
                        self._changed.notify_all()
