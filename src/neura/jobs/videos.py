"""Submitting, cancelling and deleting videos: the database side of the video API.

Each function runs inside the caller's transaction; the caller commits, then does what
:class:`AfterCommit` lists (enqueue, publish, tell a worker to stop, delete files), so that no job or
event ever refers to a row that was rolled back.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from neura.billing import Plan, credits_to_reserve, get_plan, refund, reserve
from neura.db.models import Avatar, User, Video
from neura.errors import ConflictError, ForbiddenError, InputError, NotFoundError, RateLimitedError
from neura.jobs.artifacts import video_prefix
from neura.jobs.webhooks import record_deliveries
from neura.script.schema import Script, count_words

SCRIPT_WORDS_PER_S = 2.5  # to size a script's reservation before it is spoken
ACTIVE = ("queued", "running")
CONCURRENCY_RETRY_AFTER_S = 30
CURSOR_YEARS = (1970, 9998)  # a cursor outside them is forged (and PostgreSQL cannot compare it)


def script_duration_s(text: str) -> float:
    """How long a script's video is taken to last before it is spoken (its reservation's basis)."""
    return max(1.0, count_words(text) / SCRIPT_WORDS_PER_S)


@dataclass(frozen=True)
class VideoSpec:
    prompt: str | None
    script: str | None
    avatar_id: uuid.UUID | None
    voice: str
    resolution: str
    captions: bool
    duration_s: float
    background: str | None

    def target_duration_s(self) -> float:
        return script_duration_s(self.script) if self.script is not None else self.duration_s

    def matches(self, video: Video) -> bool:
        return (
            video.prompt == self.prompt
            and (video.script or {}).get("text") == self.script
            and video.avatar_id == self.avatar_id
            and video.voice == self.voice
            and video.resolution == self.resolution
            and video.captions == self.captions
            and video.background == self.background
            and abs(video.target_duration_s - self.target_duration_s()) < 1e-6
        )


@dataclass
class AfterCommit:
    """What the caller does once the transaction has committed."""

    enqueue: Video | None = None
    publish: Video | None = None
    stop_worker: uuid.UUID | None = None
    deliveries: list[uuid.UUID] = field(default_factory=list)
    delete_prefix: str | None = None


async def owned_video(session: AsyncSession, user_id: uuid.UUID, video_id: uuid.UUID, *, lock: bool = False) -> Video:
    query = select(Video).where(Video.id == video_id, Video.user_id == user_id)
    video = await session.scalar(query.with_for_update() if lock else query)
    if video is None:
        raise NotFoundError("video not found")
    return video


@dataclass(frozen=True)
class VideoQuote:
    """What a video costs before it is rendered: the length it is sized for and the credits its
    submission reserves (the unused part comes back when it finishes)."""

    target_duration_s: float
    credits_reserved: int
    words: int | None  # a script's spoken words; None for a prompt
    plan: Plan


async def quote_video(session: AsyncSession, user: User, spec: VideoSpec) -> VideoQuote:
    """Check ``spec`` as a submission does and price it, reserving nothing: the one function behind
    both ``POST /v1/videos`` and ``POST /v1/videos/estimate``.

    Raises ScriptError (422: a script with nothing to speak), ForbiddenError (403: the plan's resolution
    or length) and InputError (422: an avatar that is not the user's)."""
    words = None
    if spec.script is not None:
        Script.from_text(spec.script)  # ScriptError (422) now rather than a failed job later
        words = count_words(spec.script)
    plan = get_plan(user.plan)
    if not plan.allows_resolution(spec.resolution):
        raise ForbiddenError(
            f"the {plan.name} plan renders up to {plan.max_resolution}", hint="choose a lower resolution or upgrade"
        )
    target_s = spec.target_duration_s()
    if target_s > plan.max_video_s:
        raise ForbiddenError(
            f"this video would last about {target_s:.0f} s; the {plan.name} plan allows {plan.max_video_s} s",
            hint="shorten the script or the duration, or upgrade your plan",
        )
    if spec.avatar_id is not None:
        avatar = await session.get(Avatar, spec.avatar_id)
        if avatar is None or avatar.user_id != user.id:
            raise InputError("avatar not found", hint="list your avatars with GET /v1/avatars")
    return VideoQuote(target_s, credits_to_reserve(target_s), words, plan)


async def create_video(
    session: AsyncSession, user_id: uuid.UUID, spec: VideoSpec, idempotency_key: str | None
) -> tuple[Video, bool]:
    """Check the plan, reserve credits and insert a queued video. Returns (video, created); with an
    Idempotency-Key seen before, the earlier video and False."""
    # One submission per user at a time: the checks below (concurrent jobs, balance) stay true until commit.
    user = await session.scalar(
        select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    )
    if user is None:
        raise NotFoundError("user not found")
    if idempotency_key is not None:
        earlier = await session.scalar(
            select(Video).where(Video.user_id == user_id, Video.idempotency_key == idempotency_key)
        )
        if earlier is not None:
            if not spec.matches(earlier):
                raise ConflictError(
                    "this Idempotency-Key was already used for a different video",
                    hint="use a new key for a new request",
                )
            return earlier, False
    quote = await quote_video(session, user, spec)
    plan = quote.plan
    active = await session.scalar(
        select(func.count()).select_from(Video).where(Video.user_id == user_id, Video.status.in_(ACTIVE))
    )
    if (active or 0) >= plan.concurrent_jobs:
        raise RateLimitedError(
            f"you have {active} videos in progress; the {plan.name} plan renders {plan.concurrent_jobs} at a time",
            retry_after_s=CONCURRENCY_RETRY_AFTER_S,
            hint="wait for one to finish, or upgrade your plan",
        )
    video = Video(
        id=uuid.uuid4(),
        user_id=user_id,
        status="queued",
        stage="queued",
        prompt=spec.prompt,
        script={"text": spec.script} if spec.script is not None else None,
        avatar_id=spec.avatar_id,
        voice=spec.voice,
        resolution=spec.resolution,
        captions=spec.captions,
        background=spec.background,
        target_duration_s=quote.target_duration_s,
        credits_reserved=quote.credits_reserved,
        artifacts={},
        idempotency_key=idempotency_key,
    )
    session.add(video)
    await session.flush()
    await reserve(session, user_id, video.id, video.credits_reserved)  # PaymentRequiredError: all rolls back
    await session.refresh(video)
    return video, True


async def cancel_video(session: AsyncSession, user_id: uuid.UUID, video_id: uuid.UUID) -> tuple[Video, AfterCommit]:
    """A queued video is cancelled and refunded at once; a running one is flagged, and its worker stops
    it (and refunds) within about a second. ConflictError when it already finished."""
    video = await owned_video(session, user_id, video_id, lock=True)
    after = AfterCommit()
    if video.status == "queued":
        await session.execute(
            update(Video)
            .where(Video.id == video.id)
            .values(
                status="cancelled",
                cancel_requested=True,
                error="cancelled by the user",
                credits_charged=0,
                finished_at=datetime.now(UTC),
            )
        )
        await refund(session, video.user_id, video.id, video.credits_reserved)
        await session.refresh(video)
        after.publish = video
        after.deliveries = await record_deliveries(session, video)
        if video.attempts:  # a run was lost before (killed mid-upload, maybe): nothing of it stays
            after.delete_prefix = video_prefix(video.user_id, video.id)
    elif video.status == "running":
        await session.execute(update(Video).where(Video.id == video.id).values(cancel_requested=True))
        await session.refresh(video)
        after.stop_worker = video.id
    else:
        raise ConflictError(f"the video already finished ({video.status}); there is nothing to cancel")
    return video, after


async def delete_video(session: AsyncSession, user_id: uuid.UUID, video_id: uuid.UUID, prefix: str) -> AfterCommit:
    """Delete a video (its ledger rows stay, detached). A video still in progress is refunded first and
    its worker told to stop; whatever that worker uploads afterwards it deletes itself (its completion
    matches no row)."""
    video = await owned_video(session, user_id, video_id, lock=True)
    after = AfterCommit(delete_prefix=prefix)
    if video.status in ACTIVE:
        await refund(session, video.user_id, video.id, video.credits_reserved)
        after.stop_worker = video.id if video.status == "running" else None
        session.expunge(video)  # a detached copy tells the event streams; the row itself goes
        video.status, video.error = "cancelled", "the video was deleted"
        after.publish = video
    await session.execute(delete(Video).where(Video.id == video_id))
    return after


def encode_cursor(video: Video) -> str:
    raw = json.dumps([video.created_at.isoformat(), str(video.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, video_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(created).astimezone(UTC)  # OverflowError at the ends of time
        if not CURSOR_YEARS[0] <= moment.year <= CURSOR_YEARS[1]:
            raise ValueError("out of range")
        return moment, uuid.UUID(video_id)
    except (ValueError, TypeError, OverflowError, binascii.Error, RecursionError):
        raise InputError("the cursor is not valid", hint="pass next_cursor from the previous page as is") from None


async def list_videos(
    session: AsyncSession, user_id: uuid.UUID, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[Video], str | None]:
    """Newest first; the cursor is the (created_at, id) of the last video of the previous page."""
    query = select(Video).where(Video.user_id == user_id)
    if status is not None:
        query = query.where(Video.status == status)
    if cursor is not None:
        created, video_id = _decode_cursor(cursor)
        query = query.where(tuple_(Video.created_at, Video.id) < tuple_(created, video_id))
    rows = list(await session.scalars(query.order_by(Video.created_at.desc(), Video.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    return page, encode_cursor(page[-1]) if len(rows) > limit else None
