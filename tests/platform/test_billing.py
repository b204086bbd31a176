"""The credit ledger under concurrency: the balance never goes negative and the ledger always adds up.

Calls neura.billing directly, each task in its own session (its own PostgreSQL connection)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neura import billing
from neura.db.models import CreditEntry, User, Video
from neura.db.session import make_engine, make_sessionmaker, transaction
from neura.errors import PaymentRequiredError


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url, pool_size=12)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def new_user(
    sessions: async_sessionmaker[AsyncSession], credits: int, videos: int
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    async with transaction(sessions) as session:
        user = User(email=f"billing-{uuid.uuid4().hex[:12]}@example.com", password_hash="x")
        session.add(user)
        await session.flush()
        await billing.grant(session, user.id, credits, note="test")
        video_ids = [uuid.uuid4() for _ in range(videos)]
        session.add_all(Video(id=vid, user_id=user.id, target_duration_s=40.0) for vid in video_ids)
        return user.id, video_ids


async def balance_and_ledger(sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID) -> tuple[int, int, int]:
    """(users.credits, sum of ledger deltas, lowest balance_after ever recorded)."""
    async with sessions() as session:
        balance = await session.scalar(select(User.credits).where(User.id == user_id))
        total, lowest = (
            await session.execute(
                select(func.sum(CreditEntry.delta), func.min(CreditEntry.balance_after)).where(
                    CreditEntry.user_id == user_id
                )
            )
        ).one()
        return int(balance or 0), int(total), int(lowest)


async def test_concurrent_reservations_never_overdraw(sessions: async_sessionmaker[AsyncSession]) -> None:
    user_id, videos = await new_user(sessions, credits=300, videos=20)
    start = asyncio.Event()

    async def reserve(video_id: uuid.UUID) -> bool:
        await start.wait()
        try:
            async with transaction(sessions) as session:
                await billing.reserve(session, user_id, video_id, 50)
            return True
        except PaymentRequiredError:
            return False

    tasks = [asyncio.create_task(reserve(video_id)) for video_id in videos]
    await asyncio.sleep(0.05)
    start.set()
    results = await asyncio.gather(*tasks)

    assert sum(results) == 6
    balance, ledger_total, lowest = await balance_and_ledger(sessions, user_id)
    assert balance == 0 and ledger_total == 0 and lowest >= 0


async def test_settle_returns_the_unused_part_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    user_id, [video_id] = await new_user(sessions, credits=100, videos=1)
    async with transaction(sessions) as session:
        await billing.reserve(session, user_id, video_id, 50)
    for _ in range(2):  # a retried worker settles twice: charged once
        async with transaction(sessions) as session:
            assert await billing.settle(session, user_id, video_id, reserved=50, charged=32) == 32
    assert await balance_and_ledger(sessions, user_id) == (68, 68, 50)


async def test_concurrent_refunds_of_one_video_refund_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    user_id, [video_id] = await new_user(sessions, credits=100, videos=1)
    async with transaction(sessions) as session:
        await billing.reserve(session, user_id, video_id, 60)

    async def refund() -> None:
        async with transaction(sessions) as session:
            await billing.refund(session, user_id, video_id, 60)

    await asyncio.gather(*(refund() for _ in range(8)))
    assert await balance_and_ledger(sessions, user_id) == (100, 100, 40)


async def test_a_reservation_too_big_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    user_id, [video_id] = await new_user(sessions, credits=10, videos=1)
    with pytest.raises(PaymentRequiredError, match="needs 11, you have 10"):
        async with transaction(sessions) as session:
            await billing.reserve(session, user_id, video_id, 11)
    assert await balance_and_ledger(sessions, user_id) == (10, 10, 10)
