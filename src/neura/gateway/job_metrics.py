"""Queue depth and jobs by state, refreshed from Redis and PostgreSQL every few seconds.

Every gateway computes the same global numbers (they describe the shared queue and database, not this
process), so dashboards should take ``max`` across gateways, not ``sum``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from neura.db.models import VIDEO_STATUSES, Video
from neura.metrics import JOBS_BY_STATE, QUEUE_DEPTH

if TYPE_CHECKING:
    from neura.gateway.state import AppState

log = logging.getLogger(__name__)

REFRESH_EVERY_S = 5.0


async def refresh(state: AppState) -> None:
    QUEUE_DEPTH.set(await state.jobs.depth())
    async with state.sessions() as session:
        rows = (await session.execute(select(Video.status, func.count()).group_by(Video.status))).all()
    counts = {status: count for status, count in rows}
    for status in VIDEO_STATUSES:
        JOBS_BY_STATE.labels(status).set(counts.get(status, 0))


async def refresh_forever(state: AppState, interval_s: float = REFRESH_EVERY_S) -> None:
    while True:
        try:
            await refresh(state)
        except (SQLAlchemyError, RedisError, OSError) as exc:
            log.warning("could not refresh job metrics: %s", exc)
        await asyncio.sleep(interval_s)
