"""The state machine of a video job, as single conditional UPDATEs in PostgreSQL.

``queued -> running -> succeeded | failed | cancelled``, and ``running -> queued`` for a retry, a
recovery, or a prompt video whose script step has written its script (:func:`hand_to_render`). Every
transition out of ``running`` names the run it ends (``worker_id`` *and* ``attempts``), so a run that lost
its claim (its worker was presumed dead and the video re-queued) can neither finish the video nor charge
for it: its UPDATE matches no row. Credits move in the same transaction as the status (settle on success,
refund on failure or cancellation), and the ledger takes each at most once per video.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from neura.billing import credits_for_video, refund, settle
from neura.db.models import Video


@dataclass(frozen=True)
class Run:
    """One claimed execution of a video's render."""

    video_id: uuid.UUID
    user_id: uuid.UUID
    worker_id: str
    attempt: int  # the video's ``attempts`` after the claim: 1 for the first run

    def owns(self) -> Any:
        return and_(
            Video.id == self.video_id,
            Video.status == "running",
            Video.worker_id == self.worker_id,
            Video.attempts == self.attempt,
        )


def _now() -> datetime:
    return datetime.now(UTC)


async def claim(session: AsyncSession, video_id: uuid.UUID, worker_id: str, stale_after_s: float) -> Video | None:
    """Take a queued video (or a running one whose worker stopped heartbeating); None when it is not
    ours to run: finished, cancelled, deleted, or running elsewhere."""
    stale = _now() - timedelta(seconds=stale_after_s)
    return await session.scalar(
        update(Video)
        .where(
            Video.id == video_id,
            Video.cancel_requested.is_(False),
            or_(Video.status == "queued", and_(Video.status == "running", Video.heartbeat_at < stale)),
        )
        .values(
            status="running",
            attempts=Video.attempts + 1,
            worker_id=worker_id,
            heartbeat_at=_now(),
            started_at=_now(),
            stage="starting",
            # a video handed over by its script step keeps the script's share; a stale run starts again
            progress=case((Video.status == "queued", Video.progress), else_=0.0),
        )
        .returning(Video)
    )


async def heartbeat(session: AsyncSession, run: Run) -> bool | None:
    """Prove the run is alive. Returns whether a cancellation was requested; None when the run no
    longer owns the video (it must stop and leave no trace)."""
    result = await session.execute(
        update(Video).where(run.owns()).values(heartbeat_at=_now()).returning(Video.cancel_requested)
    )
    row = result.first()
    return None if row is None else bool(row[0])


async def record_progress(session: AsyncSession, run: Run, stage: str, progress: float) -> None:
    await session.execute(update(Video).where(run.owns()).values(stage=stage, progress=progress, heartbeat_at=_now()))


async def complete(session: AsyncSession, run: Run, *, artifacts: dict[str, str], duration_s: float) -> Video | None:
    """Mark the video succeeded and charge for its real length; None when this run lost its claim or a
    cancellation was requested meanwhile."""
    video = await session.scalar(
        update(Video)
        .where(run.owns(), Video.cancel_requested.is_(False))
        .values(
            status="succeeded",
            stage="done",
            progress=1.0,
            error=None,
            artifacts=artifacts,
            video_url=artifacts.get("mp4"),
            duration_s=duration_s,
            finished_at=_now(),
            heartbeat_at=None,
        )
        .returning(Video)
    )
    if video is None:
        return None
    charged = await settle(session, video.user_id, video.id, video.credits_reserved, credits_for_video(duration_s))
    video.credits_charged = charged
    await session.execute(update(Video).where(Video.id == video.id).values(credits_charged=charged))
    return video


async def finish_unsuccessfully(session: AsyncSession, run: Run, status: str, error: str | None) -> Video | None:
    """``failed`` or ``cancelled``, with the whole reservation refunded; None when the run lost its claim."""
    video = await session.scalar(
        update(Video)
        .where(run.owns())
        .values(status=status, error=error, finished_at=_now(), heartbeat_at=None, credits_charged=0)
        .returning(Video)
    )
    if video is not None:
        await refund(session, video.user_id, video.id, video.credits_reserved)
    return video


async def requeue(session: AsyncSession, run: Run, error: str | None, *, count_attempt: bool = True) -> Video | None:
    """Put the video back in the queue (a retry). ``count_attempt=False`` for a worker that shuts down:
    that run was not the job's fault, and its arq job runs again under the same id."""
    values: dict[str, Any] = {
        "status": "queued",
        "stage": "queued",
        "progress": 0.0,
        "worker_id": None,
        "heartbeat_at": _now(),  # when it was re-queued: the sweeper leaves it alone for a while
        "error": error,
    }
    if not count_attempt:
        values["attempts"] = Video.attempts - 1
    return await session.scalar(update(Video).where(run.owns()).values(**values).returning(Video))


async def hand_to_render(
    session: AsyncSession, run: Run, script: dict[str, Any] | None, progress: float
) -> Video | None:
    """A script step wrote the video's script: store it and queue the video for its render. The step's
    attempt is not counted (it succeeded); None when the run lost its claim or a cancellation was
    requested meanwhile."""
    return await session.scalar(
        update(Video)
        .where(run.owns(), Video.cancel_requested.is_(False))
        .values(
            status="queued",
            stage="queued",
            progress=progress,
            script=script,
            worker_id=None,
            heartbeat_at=_now(),  # the sweeper leaves it alone for a while: its render job is being queued
            error=None,
            attempts=Video.attempts - 1,
        )
        .returning(Video)
    )


async def stale_runs(session: AsyncSession, stale_after_s: float, limit: int = 100) -> list[Video]:
    """Running videos whose worker stopped heartbeating, locked for this transaction."""
    stale = _now() - timedelta(seconds=stale_after_s)
    rows = await session.scalars(
        select(Video)
        .where(Video.status == "running", Video.heartbeat_at < stale)
        .order_by(Video.heartbeat_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


@dataclass(frozen=True)
class QueuedRow:
    """What re-enqueueing a queued video needs (:meth:`neura.jobs.queue.JobQueue.enqueue_next`)."""

    id: uuid.UUID
    attempts: int
    voice: str
    prompt: str | None
    script: dict[str, Any] | None


async def orphan_candidates(session: AsyncSession, grace_s: float, limit: int = 500) -> list[QueuedRow]:
    """Queued videos that have waited ``grace_s``, to be re-enqueued (idempotently)."""
    since = _now() - timedelta(seconds=grace_s)
    rows = await session.execute(
        select(Video.id, Video.attempts, Video.voice, Video.prompt, Video.script)
        .where(Video.status == "queued", Video.cancel_requested.is_(False))
        .where(or_(Video.heartbeat_at < since, and_(Video.heartbeat_at.is_(None), Video.created_at < since)))
        .order_by(Video.created_at)
        .limit(limit)
    )
    return [QueuedRow(row[0], int(row[1]), str(row[2]), row[3], row[4]) for row in rows]
