"""Offline videos: submit, follow, cancel, delete, download.

A submission is checked against the plan (resolution 403, length 403, videos in progress 429), reserves
credits (402 when too few) and is queued (202). An ``Idempotency-Key`` header makes a retried submission
return the first video instead of making (and charging for) a second one.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from redis.exceptions import RedisError

from neura.errors import ConflictError, NotFoundError
from neura.gateway.capacity import usable_voice
from neura.gateway.credits import CREDIT_HEADERS_DOC, balance, credit_headers
from neura.gateway.deps import CurrentUser, DbSession, SettingsDep, State
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.text import STORABLE
from neura.gateway.schemas.videos import ArtifactKind, DownloadLink, VideoCreate, VideoPage, VideoPublic, VideoStatus
from neura.gateway.signed_urls import signed_url
from neura.gateway.state import AppState
from neura.jobs.artifacts import CONTENT_TYPES, video_prefix
from neura.jobs.notify import announce
from neura.jobs.videos import AfterCommit, cancel_video, create_video, delete_video, list_videos, owned_video

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/videos", tags=["videos"], dependencies=[RateLimited])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="any unique string; a retry with the same key returns the same video",
    ),
    STORABLE,
]


async def _after_commit(state: AppState, after: AfterCommit) -> None:
    """Best effort once the rows are committed: a Redis failure here is repaired by the workers' sweeper
    (queued videos are re-enqueued, pending webhook deliveries too, streams re-read PostgreSQL)."""
    queue = state.jobs
    try:
        if after.enqueue is not None:
            await queue.events.publish_state(after.enqueue, "status")  # before its worker's first progress
            await queue.enqueue_next(after.enqueue)  # a prompt's script step first, else its render
        if after.publish is not None:
            await announce(queue, queue.events, after.publish, after.deliveries)
        if after.stop_worker is not None:
            await queue.events.request_cancel(after.stop_worker)
    except RedisError as exc:
        log.warning("Redis failed after a commit (%s); the sweeper will catch up", exc)
    if after.delete_prefix is not None:
        await state.storage.delete_prefix(after.delete_prefix)


@router.post(
    "",
    operation_id="createVideo",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit a video to render (give a prompt or a script)",
    responses={
        202: {
            "description": "queued; the credits of its reservation are taken (the unused part comes back when it "
            "finishes)",
            "headers": CREDIT_HEADERS_DOC,
        },
        402: {"description": "not enough credits for the video's reservation"},
        403: {"description": "the plan does not allow this resolution or length"},
        409: {"description": "the Idempotency-Key was used for a different request"},
        422: {"description": "a bad field, a script with nothing to speak, an unknown voice or avatar"},
        429: {"description": "too many videos in progress for the plan (or too many requests)"},
        503: {"description": "the voice's engine is not installed on this server, or no worker can render it now"},
    },
)
async def submit_video(
    body: VideoCreate,
    user: CurrentUser,
    session: DbSession,
    state: State,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> VideoPublic:
    voice = await usable_voice(state, body.voice)
    video, created = await create_video(session, user.id, body.spec(voice), idempotency_key)
    remaining = await balance(session, user.id)  # what this transaction leaves
    await session.commit()
    if created:
        await _after_commit(state, AfterCommit(enqueue=video))
    else:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/videos/{video.id}"
    charged = video.credits_reserved if created else 0  # a replay costs nothing more
    response.headers.update(credit_headers(charged, remaining))
    return VideoPublic.from_row(video)


@router.get("", operation_id="listVideos", summary="Your videos, newest first (cursor pagination)")
async def get_videos(
    user: CurrentUser,
    session: DbSession,
    status_filter: Annotated[VideoStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200), STORABLE] = None,
) -> VideoPage:
    videos, next_cursor = await list_videos(session, user.id, status=status_filter, limit=limit, cursor=cursor)
    return VideoPage(items=[VideoPublic.from_row(v) for v in videos], next_cursor=next_cursor)


@router.get(
    "/{video_id}",
    operation_id="getVideo",
    summary="One of your videos: status, stage, progress, error, length, credits",
)
async def get_video(video_id: uuid.UUID, user: CurrentUser, session: DbSession) -> VideoPublic:
    return VideoPublic.from_row(await owned_video(session, user.id, video_id))


@router.post(
    "/{video_id}/cancel",
    operation_id="cancelVideo",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel a video: a queued one at once, a running one within about a second (refunded)",
    responses={409: {"description": "the video already finished"}},
)
async def cancel(video_id: uuid.UUID, user: CurrentUser, session: DbSession, state: State) -> VideoPublic:
    video, after = await cancel_video(session, user.id, video_id)
    await session.commit()
    await _after_commit(state, after)
    return VideoPublic.from_row(video)


@router.delete(
    "/{video_id}",
    operation_id="deleteVideo",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a video and its files (a video in progress is cancelled and refunded first)",
)
async def delete(video_id: uuid.UUID, user: CurrentUser, session: DbSession, state: State) -> None:
    after = await delete_video(session, user.id, video_id, video_prefix(user.id, video_id))
    await session.commit()
    await _after_commit(state, after)


@router.get(
    "/{video_id}/download",
    operation_id="downloadVideo",
    summary="A short-lived signed URL for the MP4 (or its subtitles, thumbnail, sidecar)",
    responses={409: {"description": "the video has not succeeded (yet)"}},
)
async def download(
    video_id: uuid.UUID,
    user: CurrentUser,
    session: DbSession,
    settings: SettingsDep,
    kind: ArtifactKind = "mp4",
) -> DownloadLink:
    video = await owned_video(session, user.id, video_id)
    if video.status != "succeeded":
        raise ConflictError(f"the video is {video.status}; files can be downloaded once it succeeded")
    key = video.artifacts.get(kind)
    if key is None:
        raise NotFoundError(f"this video has no {kind} file")
    url, expires_at = signed_url(settings, key)
    return DownloadLink(url=url, expires_at=expires_at, kind=kind, content_type=CONTENT_TYPES[kind])
