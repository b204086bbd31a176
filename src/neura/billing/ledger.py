"""The credit ledger: every change of a balance is one atomic UPDATE plus one ledger row.

The balance can never go negative, whatever runs concurrently: the debit is a single
``UPDATE ... SET credits = credits - n WHERE credits >= n`` (row-locked by PostgreSQL), and a CHECK
constraint backs it. Reservation, settlement and refund of a video are each recorded at most once
(a unique index on (video_id, reason)), so a retried job is never charged twice.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from neura.db.models import CreditEntry, User
from neura.errors import InputError, NotFoundError, PaymentRequiredError


async def _apply(
    session: AsyncSession, user_id: uuid.UUID, delta: int, reason: str, video_id: uuid.UUID | None, note: str | None
) -> int | None:
    """Change the balance by ``delta`` and log it; None when the row for (video_id, reason) exists."""
    if video_id is not None:
        exists = await session.scalar(
            select(CreditEntry.id).where(CreditEntry.video_id == video_id, CreditEntry.reason == reason)
        )
        if exists is not None:
            return None
    condition = [User.id == user_id]
    if delta < 0:
        condition.append(User.credits >= -delta)
    balance = await session.scalar(
        update(User).where(*condition).values(credits=User.credits + delta).returning(User.credits)
    )
    if balance is None:
        current = await session.scalar(select(User.credits).where(User.id == user_id))
        if current is None:
            raise NotFoundError("user not found")
        raise PaymentRequiredError(
            f"not enough credits: this needs {-delta}, you have {current}",
            hint="shorten the video, or upgrade your plan",
        )
    stmt = (
        insert(CreditEntry)
        .values(user_id=user_id, delta=delta, balance_after=balance, reason=reason, video_id=video_id, note=note)
        .on_conflict_do_nothing()
        .returning(CreditEntry.id)
    )
    if await session.scalar(stmt) is None:  # lost a race with a concurrent identical entry: undo ours
        await session.execute(update(User).where(User.id == user_id).values(credits=User.credits - delta))
        return None
    return int(balance)


async def grant(session: AsyncSession, user_id: uuid.UUID, amount: int, note: str = "grant") -> int:
    balance = await _apply(session, user_id, amount, "grant", None, note)
    assert balance is not None
    return balance


async def reserve(session: AsyncSession, user_id: uuid.UUID, video_id: uuid.UUID, amount: int) -> None:
    """Hold ``amount`` credits for a video; PaymentRequiredError when the balance is too low."""
    await _apply(session, user_id, -amount, "reserve", video_id, None)


async def settle(session: AsyncSession, user_id: uuid.UUID, video_id: uuid.UUID, reserved: int, charged: int) -> int:
    """Charge the real cost of a finished video: give back what the reservation held beyond it.

    Returns the credits actually charged (never more than reserved). Idempotent."""
    charged = min(charged, reserved)
    await _apply(session, user_id, reserved - charged, "settle", video_id, f"charged {charged}")
    return charged


async def refund(session: AsyncSession, user_id: uuid.UUID, video_id: uuid.UUID, reserved: int) -> None:
    """Return the whole reservation of a failed or cancelled video. Idempotent."""
    await _apply(session, user_id, reserved, "refund", video_id, None)


async def charge(session: AsyncSession, user_id: uuid.UUID, amount: int, reason: str, note: str) -> int:
    """Debit credits not tied to a video (live minutes). PaymentRequiredError when too few."""
    balance = await _apply(session, user_id, -amount, reason, None, note)
    assert balance is not None
    return balance


async def give_back(session: AsyncSession, user_id: uuid.UUID, amount: int, reason: str, note: str) -> int:
    """Return credits charged for work that then failed on our side (speech). Returns the balance."""
    balance = await _apply(session, user_id, amount, reason, None, note)
    assert balance is not None
    return balance


async def adjust(session: AsyncSession, user_id: uuid.UUID, delta: int, note: str) -> int:
    """An operator's grant (``delta`` > 0) or withdrawal (< 0) of credits, reason ``operator``.

    Returns the new balance; :class:`InputError` when a withdrawal would take the balance below zero."""
    if delta == 0:
        raise InputError("a change of 0 credits changes nothing", hint="give a positive or negative amount")
    try:
        balance = await _apply(session, user_id, delta, "operator", None, note)
    except PaymentRequiredError:
        current = await session.scalar(select(User.credits).where(User.id == user_id))
        raise InputError(
            f"the balance is {current} credits: taking {-delta} would take it below zero",
            hint=f"take at most {current}",
        ) from None
    assert balance is not None
    return balance


async def record_plan_change(session: AsyncSession, user_id: uuid.UUID, note: str) -> int:
    """A ledger entry of 0 credits (reason ``plan``) for a change of plan, so the ledger tells every change of
    an account. Returns the (unchanged) balance."""
    balance = await _apply(session, user_id, 0, "plan", None, note)
    assert balance is not None
    return balance
