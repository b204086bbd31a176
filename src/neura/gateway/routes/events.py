"""Live progress of a video, as Server-Sent Events or over a WebSocket.

Both streams send the current state first (``type: state``), then each stage/progress event, and end
after a terminal event (``completed``, ``failed`` or ``cancelled``): :data:`neura.jobs.events.VideoEvent`.
SSE frames carry ``id: <seq>`` and ``event: <type>``; WebSocket messages are the same JSON objects, plus a
``{"type": "keepalive"}`` when nothing happened for a while. Browsers cannot set headers on a
WebSocket, so its route also takes the access token (or API key) as ``?access_token=`` (or the session
cookie); a refused WebSocket gets an error message and is closed with code 4000 + the HTTP status
(4401, 4404), like every WebSocket of the API.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from neura.db.models import Video
from neura.errors import NeuraError
from neura.gateway.deps import CurrentUser, DbSession, State, request_credentials, user_from_credentials
from neura.gateway.errors import close_with_error
from neura.gateway.ratelimit import RateLimited
from neura.gateway.state import AppState
from neura.jobs.events import VideoEvent, VideoSnapshot, follow_video, video_state
from neura.jobs.videos import owned_video

router = APIRouter(prefix="/v1/videos", tags=["videos"])

RECHECK_S = 5.0  # idle streams re-read the database (and SSE sends a keep-alive comment) this often


class VideoKeepalive(BaseModel):
    """Sent on the WebSocket when nothing happened for a while (SSE sends a comment instead)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    type: Literal["keepalive"] = "keepalive"


def _loader(state: AppState, video_id: uuid.UUID) -> Callable[[], Awaitable[VideoSnapshot]]:
    async def load() -> VideoSnapshot:
        async with state.sessions() as session:
            video = await session.get(Video, video_id)
        if video is None:  # deleted while followed
            return VideoSnapshot(video_id=str(video_id), status="cancelled", error="the video was deleted")
        return video_state(video)

    return load


def _sse(event: VideoEvent) -> str:
    return f"id: {event.seq}\nevent: {event.type}\ndata: {event.model_dump_json()}\n\n"


@router.get(
    "/{video_id}/events",
    operation_id="streamVideoEvents",
    response_class=StreamingResponse,
    dependencies=[RateLimited],
    summary="Progress as Server-Sent Events: current state, stages, then a terminal event",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def video_events(video_id: uuid.UUID, user: CurrentUser, session: DbSession, state: State) -> StreamingResponse:
    await owned_video(session, user.id, video_id)
    await session.commit()  # the stream may last minutes: hold no transaction (nor connection) meanwhile

    async def frames() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        async for event in follow_video(state.redis, video_id, _loader(state, video_id), recheck_s=RECHECK_S):
            yield ": keep-alive\n\n" if event is None else _sse(event)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)


@router.websocket("/{video_id}/events/ws")
async def video_events_ws(websocket: WebSocket, video_id: uuid.UUID) -> None:
    """Progress events; authenticate with ``?access_token=`` (browsers), ``?api_key=`` or the headers."""
    state: AppState = websocket.app.state.neura
    await websocket.accept()
    try:
        async with state.sessions() as session, session.begin():
            token = request_credentials(websocket)
            user = await user_from_credentials(token, session, state.settings, state.redis)
            await owned_video(session, user.id, video_id)
    except NeuraError as exc:
        await close_with_error(websocket, exc)
        return
    try:
        async for event in follow_video(state.redis, video_id, _loader(state, video_id), recheck_s=RECHECK_S):
            await websocket.send_text((VideoKeepalive() if event is None else event).model_dump_json())
    except WebSocketDisconnect:
        return
    await websocket.close(code=1000)
