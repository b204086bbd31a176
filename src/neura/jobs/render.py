"""The render job: claim a video, render it on a thread, upload its files, finish it exactly once.

Execution is at least once (a job can run again after its worker died); completion is exactly once:
the run's final UPDATE names the run (:mod:`neura.jobs.transitions`), and a run whose UPDATE matches
nothing deletes what it uploaded and leaves. While it renders, a run heartbeats every
``worker_heartbeat_s`` (and learns of cancellations that way too), publishes progress to Redis, writes it
to PostgreSQL at most once a second, and stops within about a second when its :class:`CancelToken` is
set: by the user (pub/sub or the database flag), by the time limit, or because it lost its claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from neura.assets.avatars import stored_asset
from neura.db.models import Avatar, Video
from neura.db.session import transaction
from neura.errors import CancelledError, ImageError, LLMError, NeuraError, NotFoundError, OutputError, StorageError
from neura.jobs import transitions
from neura.jobs.artifacts import CONTENT_TYPES, FILE_NAMES, discard_other_runs, result_files, run_prefix
from neura.jobs.context import WorkerContext
from neura.jobs.events import VideoProgressEvent
from neura.jobs.notify import announce
from neura.jobs.transitions import Run
from neura.jobs.webhooks import record_deliveries
from neura.metrics import RENDER_DURATION
from neura.pipeline import CancelToken, RenderRequest, RenderResult, render_video
from neura.pipeline.request import Resolution, avatar_px
from neura.render.providers import create_renderer
from neura.render.seam import RenderAsset
from neura.tts.voices import VoiceRef

log = logging.getLogger(__name__)

PROGRESS_FLUSH_S = 5.0  # at most this long for queued progress events before the upload's
# each pipeline stage's share of the overall progress
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


async def render_job(ctx: dict[str, Any], video_id: str) -> str:
    """arq entry point (``render_video``): returns what happened, for the worker's log."""
    jobs: WorkerContext = ctx["neura"]
    async with transaction(jobs.sessions) as session:
        video = await transitions.claim(session, uuid.UUID(video_id), jobs.worker_id, jobs.stale_after_s)
    if video is None:
        log.info("video %s: skipped (finished, cancelled, deleted or running elsewhere)", video_id)
        return "skipped"
    run = Run(video.id, video.user_id, jobs.worker_id, video.attempts)
    render = RenderRun(jobs, run, video)
    jobs.runs[video.id] = render
    started = time.monotonic()
    try:
        outcome = await render.execute()
    finally:
        jobs.runs.pop(video.id, None)
    log.info("video %s, attempt %d took %.1f s: %s", video.id, run.attempt, time.monotonic() - started, outcome)
    return outcome


class RenderRun:
    def __init__(self, jobs: WorkerContext, run: Run, video: Video) -> None:
        self.jobs = jobs
        self.run = run
        self.video = video
        self.token = CancelToken()
        self.stop_reason: str | None = None
        self._loop = asyncio.get_running_loop()
        self._updates: asyncio.Queue[tuple[str, float, str]] = asyncio.Queue()
        self._sent_stage = ""
        self._sent_progress = 0.0
        self._sent_at = 0.0
        self._started = time.monotonic()
        self._helpers: list[asyncio.Task[None]] = []  # heartbeat, progress pump
        self._uploaded = False  # something is in storage under this run's prefix
        self._succeeded = False

    def stop(self, reason: str) -> None:
        """Ask the render to stop (``user``, ``time_limit``, ``lost``, ``shutdown``); the first reason wins."""
        if self.stop_reason is None:
            self.stop_reason = reason
            log.info("stopping the render of %s: %s", self.run.video_id, reason)
        self.token.cancel()

    async def execute(self) -> str:
        workdir = Path(tempfile.mkdtemp(prefix=f"neura-{self.run.video_id}-"))
        self._helpers = [asyncio.create_task(self._heartbeat()), asyncio.create_task(self._pump_progress())]
        deadline = self._loop.call_later(self.jobs.settings.job_time_limit_s, self.stop, "time_limit")
        await self._publish_progress("starting", 0.0, f"attempt {self.run.attempt}")
        try:
            try:
                result = await self._render(workdir)
                if self.stop_reason is not None:
                    raise CancelledError("the render was cancelled")
                return await self._finish(result)
            except CancelledError:
                return await self._stopped()
            except NeuraError as exc:
                message = user_message(exc).replace(str(workdir), "the render's folder")  # never a server path
                if is_transient(exc):
                    return await self._retry_or_fail(message)
                return await self._fail(message)
            except OSError as exc:
                return await self._retry_or_fail(f"a system error stopped the render: {exc.strerror or exc}")
            except asyncio.CancelledError:  # the worker is shutting down: give the video back untouched
                await asyncio.shield(self._release())
                raise
            except Exception:  # a bug: recorded on the video and retried, never silently dropped
                log.exception("the render of %s failed unexpectedly", self.run.video_id)
                return await self._retry_or_fail("internal error while rendering")
        finally:
            deadline.cancel()
            await self._stop_helpers()
            shutil.rmtree(workdir, ignore_errors=True)
            if self._uploaded and not self._succeeded:
                await self._discard_uploads()

    # --- the render itself

    async def _render(self, workdir: Path) -> RenderResult:
        request = await self._request(workdir)
        settings = self.jobs.settings
        call = functools.partial(render_video, request, settings, progress=self._on_progress, cancel=self.token)
        future = self._loop.run_in_executor(self.jobs.executor, call)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            self.stop("shutdown")
            await asyncio.wait({future})  # the thread stops within about a second; never leave it running
            if not future.cancelled():
                future.exception()  # it ended in CancelledError (or finished): either way, handed back
            raise

    async def _request(self, workdir: Path) -> RenderRequest:
        video = self.video
        resolution: Resolution = "512" if video.resolution == "512" else "720p"
        avatar: bytes | None = None
        avatar_name: str | None = None
        asset: RenderAsset | None = None
        if video.avatar_id is not None:
            async with transaction(self.jobs.sessions) as session:
                row = await session.get(Avatar, video.avatar_id)
            if row is None or row.user_id != video.user_id:
                raise ImageError("the avatar of this video was deleted", hint="choose another avatar")
            avatar_name = row.name
            renderer = create_renderer(self.jobs.settings)
            size_px = avatar_px(resolution)
            asset = await stored_asset(
                self.jobs.storage, row.rig_keys or {}, size_px, renderer, executor=self.jobs.executor
            )
            if asset is None:
                try:
                    avatar = await self.jobs.storage.get_bytes(row.image_key)
                except NotFoundError:
                    raise ImageError("the avatar's photo is missing from storage", hint="upload it again") from None
        script = (video.script or {}).get("text")
        return RenderRequest(
            output_path=workdir / FILE_NAMES["mp4"],
            prompt=None if script else video.prompt,
            script_text=script,
            duration_s=video.target_duration_s,
            avatar=avatar,
            avatar_name=avatar_name,
            avatar_asset=asset,
            resolution=resolution,
            burn_captions=video.captions,
            background=video.background,
            voice=VoiceRef.parse(video.voice),  # checked when it was submitted; stored as "engine:voice"
        )

    # --- progress, heartbeat

    def _on_progress(self, stage: str, fraction: float, message: str = "") -> None:
        """Called on the render thread: hands throttled updates to the event loop."""
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

    def _prefix(self) -> str:
        return run_prefix(self.run.user_id, self.run.video_id, self.run.attempt)

    async def _finish(self, result: RenderResult) -> str:
        # the render thread's last updates ("finish") are queued before its result arrives: send them
        # before the upload's own, so a client never sees the stages out of order
        with contextlib.suppress(asyncio.TimeoutError):  # bounded: a stuck pump must not hold the video
            await asyncio.wait_for(self._updates.join(), PROGRESS_FLUSH_S)
        files = result_files(result)
        artifacts: dict[str, str] = {}
        for i, (kind, path) in enumerate(files.items()):
            await self._publish_progress("upload", 0.96 + 0.04 * i / len(files), kind)
            key = f"{self._prefix()}/{FILE_NAMES[kind]}"
            self._uploaded = True
            await self.jobs.storage.put_file(key, path, CONTENT_TYPES[kind])
            artifacts[kind] = key
        await self._stop_helpers()
        async with transaction(self.jobs.sessions) as session:
            video = await transitions.complete(session, self.run, artifacts=artifacts, duration_s=result.duration_s)
            if video is None:  # cancelled while uploading, or no longer ours
                video = await transitions.finish_unsuccessfully(session, self.run, "cancelled", "cancelled by the user")
            deliveries = await record_deliveries(session, video) if video is not None else []
        if video is None:
            return "discarded: the run lost its claim"
        self._succeeded = video.status == "succeeded"
        await announce(self.jobs.queue, self.jobs.publisher, video, deliveries)
        await self._discard_other_runs(kept=self.run.attempt if self._succeeded else None)
        if self._succeeded:
            RENDER_DURATION.observe(time.monotonic() - self._started)
        return video.status

    async def _discard_uploads(self) -> None:
        try:
            await self.jobs.storage.delete_prefix(self._prefix())
        except (StorageError, OSError) as exc:
            log.warning("could not delete the files of run %s of %s: %s", self.run.attempt, self.run.video_id, exc)

    async def _discard_other_runs(self, kept: int | None) -> None:
        """The video has ended: what earlier runs uploaded before they were killed goes."""
        try:
            await discard_other_runs(
                self.jobs.storage, self.run.user_id, self.run.video_id, self.run.attempt, kept=kept
            )
        except (StorageError, OSError) as exc:
            log.warning("could not delete the earlier runs' files of %s: %s", self.run.video_id, exc)

    async def _end(self, status: str, error: str | None) -> str:
        await self._stop_helpers()
        async with transaction(self.jobs.sessions) as session:
            video = await transitions.finish_unsuccessfully(session, self.run, status, error)
            deliveries = await record_deliveries(session, video) if video is not None else []
        if video is None:
            return "discarded: the run lost its claim"
        await announce(self.jobs.queue, self.jobs.publisher, video, deliveries)
        await self._discard_other_runs(kept=None)
        return status

    async def _fail(self, message: str) -> str:
        log.info("video %s failed: %s", self.run.video_id, message)
        return await self._end("failed", message)

    async def _stopped(self) -> str:
        reason = self.stop_reason or "user"
        if reason == "lost":
            return "discarded: the run lost its claim"
        if reason == "time_limit":
            limit = self.jobs.settings.job_time_limit_s
            return await self._fail(f"the render took longer than the {limit} s time limit")
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
        await self.jobs.queue.enqueue_render(video.id, video.attempts, video.voice, defer_s=delay_s)
        return "retrying"

    async def _release(self) -> None:
        async with transaction(self.jobs.sessions) as session:
            video = await transitions.requeue(session, self.run, None, count_attempt=False)
        if video is not None:
            log.info("video %s handed back to the queue: this worker is shutting down", video.id)
            await self.jobs.publisher.publish_state(video)
