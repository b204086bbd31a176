"""Recovery: every worker runs a sweeper that repairs what crashes leave behind.

* A ``running`` video whose heartbeat is older than ``3 x worker_heartbeat_s`` lost its worker (in its
  script step or its render): it is queued again under a new job id, for the step it had reached (or
  failed and refunded once it has used ``job_max_tries`` attempts, or cancelled and refunded if the user
  asked for that meanwhile).
* A ``queued`` video older than :data:`ORPHAN_GRACE_S` is (re-)enqueued: enqueueing is idempotent
  (deterministic job ids), so this only adds a job when none is queued or running, e.g. when the
  gateway died between its commit and its enqueue, or Redis lost its data. If its job exists but arq
  marks it in progress, the worker that took it died before claiming the video: the mark is removed so
  that another worker runs the job (:meth:`neura.jobs.queue.JobQueue.release_abandoned`).
* A webhook delivery still ``pending`` is re-enqueued the same way.
* Refresh tokens that expired over a day ago are deleted (a batch per sweep).

Several sweepers (one per worker) may run at once: stale rows are taken with ``FOR UPDATE SKIP LOCKED``
and every step is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from neura.accounts.tokens import prune_expired_refresh_tokens
from neura.db.models import Video
from neura.db.session import transaction
from neura.errors import StorageError
from neura.jobs import transitions
from neura.jobs.artifacts import discard_other_runs
from neura.jobs.context import WorkerContext
from neura.jobs.notify import announce
from neura.jobs.transitions import Run
from neura.jobs.webhooks import pending_deliveries, record_deliveries

log = logging.getLogger(__name__)

ORPHAN_GRACE_S = 15.0  # a queued video younger than this is still being enqueued by its gateway


@dataclass
class SweepReport:
    requeued: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    cancelled: list[uuid.UUID] = field(default_factory=list)
    enqueued: list[uuid.UUID] = field(default_factory=list)  # queued videos whose job was missing
    released: list[uuid.UUID] = field(default_factory=list)  # ... or held by a worker that died before its claim
    webhooks_enqueued: list[uuid.UUID] = field(default_factory=list)
    refresh_tokens_pruned: int = 0

    @property
    def changed(self) -> bool:
        """Whether this sweep did anything (worth a log line)."""
        return (
            bool(self.requeued or self.failed or self.cancelled or self.enqueued or self.released)
            or bool(self.webhooks_enqueued)
            or self.refresh_tokens_pruned > 0
        )


async def sweep_once(jobs: WorkerContext) -> SweepReport:
    report = SweepReport()
    settings = jobs.settings
    finished: list[tuple[Video, list[uuid.UUID]]] = []
    requeued: list[Video] = []
    async with transaction(jobs.sessions) as session:
        for video in await transitions.stale_runs(session, jobs.stale_after_s):
            run = Run(video.id, video.user_id, video.worker_id or "", video.attempts)
            if video.cancel_requested:
                done = await transitions.finish_unsuccessfully(session, run, "cancelled", "cancelled by the user")
                report.cancelled.append(video.id)
            elif video.attempts >= settings.job_max_tries:
                message = f"the render stopped {video.attempts} times (its worker was lost); giving up"
                done = await transitions.finish_unsuccessfully(session, run, "failed", message)
                report.failed.append(video.id)
            else:
                again = await transitions.requeue(session, run, "the worker rendering this video stopped; queued again")
                if again is not None:
                    requeued.append(again)
                    report.requeued.append(video.id)
                continue
            if done is not None:
                finished.append((done, await record_deliveries(session, done)))
    for video, deliveries in finished:
        await announce(jobs.queue, jobs.publisher, video, deliveries)
        try:  # the lost runs may have uploaded part of their files before they died
            await discard_other_runs(jobs.storage, video.user_id, video.id, video.attempts)
        except (StorageError, OSError) as exc:
            log.warning("could not delete the lost runs' files of %s: %s", video.id, exc)
    for video in requeued:
        await jobs.publisher.publish_state(video)  # before the job exists: "queued" precedes its progress
        await jobs.queue.enqueue_next(video)

    grace_s = max(jobs.stale_after_s, ORPHAN_GRACE_S)
    async with transaction(jobs.sessions) as session:
        orphans = await transitions.orphan_candidates(session, grace_s)
        deliveries = await pending_deliveries(session, grace_s)
    for orphan in orphans:
        if await jobs.queue.enqueue_next(orphan):
            report.enqueued.append(orphan.id)
        elif await jobs.queue.release_abandoned(orphan):
            report.released.append(orphan.id)
    for delivery_id in deliveries:
        if await jobs.queue.enqueue_webhook(delivery_id):
            report.webhooks_enqueued.append(delivery_id)
    async with transaction(jobs.sessions) as session:
        report.refresh_tokens_pruned = await prune_expired_refresh_tokens(session)
    if report.changed:
        log.info("sweeper: %s", report)
    return report


async def sweep_forever(jobs: WorkerContext, interval_s: float) -> None:
    """Sweep now, then every ``interval_s``; a database or Redis outage only delays the next sweep."""
    while True:
        try:
            await sweep_once(jobs)
        except (SQLAlchemyError, RedisError, OSError) as exc:
            log.warning("sweep failed, retrying in %.0f s: %s", interval_s, exc)
        await asyncio.sleep(interval_s)
