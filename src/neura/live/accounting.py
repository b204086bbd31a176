"""Live sessions in PostgreSQL: the session row, the plan's monthly minutes, and credits per minute.

Live time is charged per *started* billing period (a minute; tests shorten it): the first when the
session opens (so a user without credits never starts one), the next as soon as it begins. Each
charge is one ledger entry (reason ``live``) written with the session row's running totals.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neura.billing import charge, get_plan
from neura.billing.plans import CREDITS_PER_LIVE_MINUTE
from neura.db.models import LiveSession as LiveSessionRow
from neura.live.errors import PlanMinutesUsedError


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def live_seconds_this_month(db: AsyncSession, user_id: uuid.UUID, now: datetime) -> float:
    used = await db.scalar(
        select(func.coalesce(func.sum(LiveSessionRow.seconds_used), 0.0)).where(
            LiveSessionRow.user_id == user_id, LiveSessionRow.created_at >= month_start(now)
        )
    )
    return float(used or 0.0)


class LiveAccounting:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, period_s: float = 60.0) -> None:
        self.sessions = sessions
        self.period_s = period_s
        self.credits_per_period = CREDITS_PER_LIVE_MINUTE

    async def open(
        self,
        *,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        plan_name: str,
        avatar_id: uuid.UUID | None,
        voice: str,
        persona: str | None,
        instance_id: str,
    ) -> float:
        """Write the session row and charge its first period, in one transaction.

        Returns the seconds of the plan's monthly live minutes left. Raises :class:`PlanMinutesUsedError` (403)
        when none are left and :class:`PaymentRequiredError` without credits for the first period."""
        plan = get_plan(plan_name)
        async with self.sessions() as db, db.begin():
            used_s = await live_seconds_this_month(db, user_id, datetime.now(UTC))
            left_s = plan.live_minutes * 60.0 - used_s
            if left_s <= 0:
                raise PlanMinutesUsedError(
                    f"you have used all {plan.live_minutes} live minutes of the {plan.name} plan this month",
                    hint="upgrade your plan for more live minutes, or wait for next month",
                )
            db.add(
                LiveSessionRow(
                    id=session_id,
                    user_id=user_id,
                    avatar_id=avatar_id,
                    voice=voice,
                    persona=persona,
                    status="open",
                    worker_id=instance_id,
                    seconds_used=0.0,
                    credits_charged=self.credits_per_period,
                )
            )
            await db.flush()
            await charge(db, user_id, self.credits_per_period, "live", f"live session {session_id} minute 1")
        return left_s

    async def charge_period(self, session_id: uuid.UUID, user_id: uuid.UUID, period: int, seconds_used: float) -> None:
        """Charge period number ``period`` (1-based); PaymentRequiredError when credits ran out."""
        async with self.sessions() as db, db.begin():
            await charge(db, user_id, self.credits_per_period, "live", f"live session {session_id} minute {period}")
            await db.execute(
                update(LiveSessionRow)
                .where(LiveSessionRow.id == session_id)
                .values(
                    credits_charged=LiveSessionRow.credits_charged + self.credits_per_period,
                    seconds_used=seconds_used,
                )
            )

    async def close(self, session_id: uuid.UUID, seconds_used: float) -> None:
        async with self.sessions() as db, db.begin():
            await db.execute(
                update(LiveSessionRow)
                .where(LiveSessionRow.id == session_id)
                .values(status="closed", seconds_used=seconds_used, closed_at=datetime.now(UTC))
            )

    async def find(self, session_id: uuid.UUID, user_id: uuid.UUID) -> LiveSessionRow | None:
        async with self.sessions() as db:
            row: LiveSessionRow | None = await db.scalar(
                select(LiveSessionRow).where(LiveSessionRow.id == session_id, LiveSessionRow.user_id == user_id)
            )
            return row

    async def close_abandoned(self, live_instances: list[str], older_than_s: float = 60.0) -> int:
        """Close the rows of sessions whose instance is gone (it crashed, or was killed): their
        ``worker_id`` is not among ``live_instances``. Returns how many were closed."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
        async with self.sessions() as db, db.begin():
            result = await db.execute(
                update(LiveSessionRow)
                .where(
                    LiveSessionRow.status == "open",
                    LiveSessionRow.created_at < cutoff,
                    LiveSessionRow.worker_id.not_in(live_instances),
                )
                .values(status="closed", closed_at=datetime.now(UTC))
            )
            return int(getattr(result, "rowcount", 0) or 0)
