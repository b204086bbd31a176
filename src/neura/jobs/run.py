"""One claimed run of a video's job step (its script step or its render): what both steps share.

Execution is at least once (a job can run again after its worker died); completion is exactly once:
the run's final UPDATE names the run (:mod:`neura.jobs.transitions`), and a run whose UPDATE matches
nothing leaves. While it works, a run heartbeats every ``worker_heartbeat_s`` (and learns of
cancellations that way too), publishes progress to Redis, writes it to PostgreSQL at most once a second,
and stops when :meth:`JobRun.stop` is called: by the user (pub/sub or the database flag), by the time
limit, because it lost its claim, or because its worker shuts down (the video is then handed back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from neura.db.models import Video
from neura.db.session import transaction
from neura.errors import CancelledError, LLMError, NeuraError, OutputError, StorageError
from neura.jobs import transitions
from neura.jobs.artifacts import discard_other_runs
from neura.jobs.context import WorkerContext
from neura.jobs.events import VideoProgressEvent
from neura.jobs.notify import announce
from neura.jobs.transitions import Run
from neura.jobs.webhooks import record_deliveries
from neura.pipeline import CancelToken

log = logging.getLogger(__name__)

PROGRESS_FLUSH_S = 5.0  # at most this long for queued progress events before the step's last ones
# each stage's share of the overall progress (the script step is the "script" stage)
STAGE_SPANS = {
    "starting": (0.0, 0.0),
    "script": (0.0, 0.08),
    "avatar": (0.08, 0.14),
    "render": (0.14, 0.94),
    "finish": (0.94, 0.96),
    "upload": (0.96, 1.0),
}
PUBLISH_EVERY_S = 0.25
DB_PROGRESS_EVERY_S = 1.0
RETRY_BASE_S = 2.0
RETRY_MAX_S = 300.0


def is_transient(exc: BaseException) -> bool:
    """Worth another try: the LLM server or storage was unreachable, the disk was full."""
    if isinstance(exc, LLMError):
        return exc.retryable
    return isinstance(exc, StorageError | OutputError | OSError)


def retry_delay_s(attempt: int) -> float:
    base = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (attempt - 1))
    return base * random.uniform(0.8, 1.2)


def user_message(exc: NeuraError) -> str:
    return f"{exc.message} ({exc.hint})" if exc.hint else exc.message


Step = Callable[[AsyncSession], Awaitable[Video | None]]


async def run_claimed(
    ctx: dict[str, Any], video_id: str, step: str, make: Callable[[WorkerContext, Run, Video], JobRun]
) -> str:
    """An arq entry point's body: claim the video, run ``make(...)``'s step, return what happened (for
    the worker's log)."""
    jobs: WorkerContext = ctx["neura"]
    async with transaction(jobs.sessions) as session:
        video = await transitions.claim(session, uuid.UUID(video_id), jobs.worker_id, jobs.stale_after_s)
    if video is None:
        log.info("video %s: skipped (finished, cancelled, deleted or running elsewhere)", video_id)
        return "skipped"
    run = Run(video.id, video.user_id, jobs.worker_id, video.attempts)
    job = make(jobs, run, video)
    jobs.runs[video.id] = job
    started = time.monotonic()
    try:
        outcome = await job.execute()
    finally:
        jobs.runs.pop(video.id, None)
    took_s = time.monotonic() - started
    log.info("video %s, attempt %d took %.1f s (%s step): %s", video.id, run.attempt, took_s, step, outcome)
    return outcome


class JobRun:
    """A step's run. Subclasses do the work in :meth:`_work` (returning the outcome) and may clean up in
    :meth:`_cleanup`; failures, retries, cancellation and hand-backs are handled here."""

    doing = "the job"  # what the step does, for messages: "the render", "writing the script"
    holds_render_slot = False  # counted in the worker's advertised load

    def __init__(self, jobs: WorkerContext, run: Run, video: Video) -> None:
        self.jobs = jobs
        self.run = run
        self.video = video
        self.token = CancelToken()
        self.stop_reason: str | None = None
        self._loop = asyncio.get_running_loop()
        self._updates: asyncio.Queue[tuple[str, float, str]] = asyncio.Queue()
        self._sent_stage = ""
        self._sent_progress = video.progress or 0.0  # a video handed over by its script step keeps its share
        self._sent_at = 0.0
        self._started = time.monotonic()
        self._helpers: list[asyncio.Task[None]] = []  # heartbeat, progress pump

    def stop(self, reason: str) -> None:
        """Ask the run to stop (``user``, ``time_limit``, ``lost``, ``shutdown``); the first reason wins."""
        if self.stop_reason is None:
            self.stop_reason = reason
            log.info("stopping %s of %s: %s", self.doing, self.run.video_id, reason)
        self.token.cancel()

    async def _work(self) -> str:
        raise NotImplementedError

    async def _cleanup(self) -> None:
        """After the run, whatever happened."""

    def _public(self, message: str) -> str:
        """An error message as users may see it (never a path of this machine)."""
        return message

    async def _first_event(self) -> None:
        await self._publish_progress("starting", self._sent_progress, f"attempt {self.run.attempt}")

    async def execute(self) -> str:
        self._helpers = [asyncio.create_task(self._heartbeat()), asyncio.create_task(self._pump_progress())]
        deadline = self._loop.call_later(self.jobs.settings.job_time_limit_s, self.stop, "time_limit")
        await self._first_event()
        try:
            try:
                return await self._work()
            except CancelledError:
                return await self._stopped()
            except NeuraError as exc:
                message = self._public(user_message(exc))
                if is_transient(exc):
                    return await self._retry_or_fail(message)
                return await self._fail(message)
            except OSError as exc:
                return await self._retry_or_fail(f"a system error stopped {self.doing}: {exc.strerror or exc}")
            except asyncio.CancelledError:  # the worker is shutting down: give the video back untouched
                await asyncio.shield(self._release())
                raise
            except Exception:  # a bug: recorded on the video and retried, never silently dropped
                log.exception("%s of %s failed unexpectedly", self.doing, self.run.video_id)
                return await self._retry_or_fail(f"an internal error stopped {self.doing}")
        finally:
            deadline.cancel()
            await self._stop_helpers()
            await self._cleanup()

    # --- progress, heartbeat

    def _on_progress(self, stage: str, fraction: float, message: str = "") -> None:
        """Called on the render thread or the event loop: hands throttled updates to the event loop."""
        low, high = STAGE_SPANS.get(stage, (self._sent_progress, self._sent_progress))
        overall = max(self._sent_progress, low + (high - low) * max(0.0, min(1.0, fraction)))
        now = time.monotonic()
        if stage == self._sent_stage and now - self._sent_at < PUBLISH_EVERY_S and fraction < 1.0:
            return
        self._sent_stage, self._sent_progress, self._sent_at = stage, overall, now
        self._loop.call_soon_threadsafe(self._updates.put_nowait, (stage, overall, message))

    async def _pump_progress(self) -> None:
        db_stage, db_at = "", 0.0
        while True:
            stage, overall, message = await self._updates.get()
            try:
                await self._publish_progress(stage, overall, message)
                if stage != db_stage or time.monotonic() - db_at >= DB_PROGRESS_EVERY_S:
                    db_stage, db_at = stage, time.monotonic()
                    try:
                        async with transaction(self.jobs.sessions) as session:
                            await transitions.record_progress(session, self.run, stage, overall)
                    except SQLAlchemyError as exc:
                        log.warning("could not record progress of %s: %s", self.run.video_id, exc)
            finally:
                self._updates.task_done()

    async def _flush_progress(self) -> None:
        """Send the updates still queued before the step's own last ones, so that a client never sees the
        stages out of order; bounded: a stuck pump must not hold the video."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._updates.join(), PROGRESS_FLUSH_S)

    async def _publish_progress(self, stage: str, overall: float, message: str) -> None:
        event = VideoProgressEvent(
            video_id=str(self.run.video_id),
            status="running",
            stage=stage,
            progress=round(overall, 4),
            message=message[:200],
        )
        try:
            await self.jobs.publisher.publish(event)
        except RedisError as exc:  # events are a view; PostgreSQL holds the state
            log.warning("could not publish progress of %s: %s", self.run.video_id, exc)

    async def _stop_helpers(self) -> None:
        """Before the final transaction: a heartbeat after it would find the run gone and call it lost."""
        for task in self._helpers:
            task.cancel()
        await asyncio.gather(*self._helpers, return_exceptions=True)

    async def _heartbeat(self) -> None:
        """Beats at once (a cancellation sent between the claim and this run's registration for pub/sub
        messages is noticed now), then every ``worker_heartbeat_s``."""
        while True:
            try:
                async with transaction(self.jobs.sessions) as session:
                    cancel_requested = await transitions.heartbeat(session, self.run)
            except SQLAlchemyError as exc:
                log.warning("heartbeat of %s failed: %s", self.run.video_id, exc)
                await asyncio.sleep(self.jobs.settings.worker_heartbeat_s)
                continue
            if cancel_requested is None:
                self.stop("lost")
                return
            if cancel_requested:
                self.stop("user")
            await asyncio.sleep(self.jobs.settings.worker_heartbeat_s)

    # --- outcomes

    async def _conclude(self, step: Step) -> Video | None:
        """Run ``step`` (the transition that ends this run), turning it into a cancellation when it
        matched nothing because the user cancelled meanwhile; None when the run lost its claim. Finished
        videos get their webhook deliveries in the same transaction and are announced after it."""
        await self._stop_helpers()
        async with transaction(self.jobs.sessions) as session:
            video = await step(session)
            if video is None:  # cancelled meanwhile, or no longer ours
                video = await transitions.finish_unsuccessfully(session, self.run, "cancelled", "cancelled by the user")
            deliveries = await record_deliveries(session, video) if video is not None else []
        if video is not None and video.status in ("succeeded", "failed", "cancelled"):
            await announce(self.jobs.queue, self.jobs.publisher, video, deliveries)
            succeeded = video.status == "succeeded"
            await self._discard_other_runs(kept=self.run.attempt if succeeded else None)
        return video

    async def _discard_other_runs(self, kept: int | None) -> None:
        """The video has ended: what earlier runs uploaded before they were killed goes."""
        try:
            await discard_other_runs(
                self.jobs.storage, self.run.user_id, self.run.video_id, self.run.attempt, kept=kept
            )
        except (StorageError, OSError) as exc:
            log.warning("could not delete the earlier runs' files of %s: %s", self.run.video_id, exc)

    async def _end(self, status: str, error: str | None) -> str:
        video = await self._conclude(
            lambda session: transitions.finish_unsuccessfully(session, self.run, status, error)
        )
        return "discarded: the run lost its claim" if video is None else video.status

    async def _fail(self, message: str) -> str:
        log.info("video %s failed: %s", self.run.video_id, message)
        return await self._end("failed", message)

    async def _stopped(self) -> str:
        reason = self.stop_reason or "user"
        if reason == "lost":
            return "discarded: the run lost its claim"
        if reason == "time_limit":
            limit = self.jobs.settings.job_time_limit_s
            return await self._fail(f"{self.doing} took longer than the {limit} s time limit")
        return await self._end("cancelled", "cancelled by the user")

    async def _retry_or_fail(self, message: str) -> str:
        max_tries = self.jobs.settings.job_max_tries
        if self.run.attempt >= max_tries:
            return await self._fail(f"{message} (gave up after {self.run.attempt} attempts)")
        await self._stop_helpers()
        async with transaction(self.jobs.sessions) as session:
            video = await transitions.requeue(session, self.run, f"{message} (attempt {self.run.attempt}; retrying)")
        if video is None:
            return "discarded: the run lost its claim"
        delay_s = retry_delay_s(self.run.attempt)
        log.info("video %s: %s; retry %d in %.1f s", self.run.video_id, message, self.run.attempt + 1, delay_s)
        await self.jobs.publisher.publish_state(video)
        await self.jobs.queue.enqueue_next(video, defer_s=delay_s)
        return "retrying"

    async def _release(self) -> None:
        async with transaction(self.jobs.sessions) as session:
            video = await transitions.requeue(session, self.run, None, count_attempt=False)
        if video is not None:
            log.info("video %s handed back to the queue: this worker is shutting down", video.id)
            await self.jobs.publisher.publish_state(video)
