"""Progress events of a video: a Redis pub/sub channel per video plus a short replay buffer.

An event is a :data:`VideoEvent` (JSON ``{"type", "video_id", "seq", "ts", "status", "stage", "progress",
...}``; ``neura schemas`` exports its JSON Schema):

* ``state`` — the first event of every stream: the video's current state (PostgreSQL, refreshed by the
  newest buffered event, since the worker writes progress to the database less often than it publishes);
* ``progress`` — a stage advanced (``stage`` is one of :data:`STAGES`, ``progress`` is overall, 0..1);
* ``status`` — the video went back to ``queued`` (a retry, or a recovery after a lost worker);
* ``completed`` | ``failed`` | ``cancelled`` — terminal; a stream ends after it.

``seq`` grows by one per event of a video (one Lua script increments it, appends the event to the
buffer and publishes it, atomically), so a subscriber drops what its snapshot already covered.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from redis.asyncio import Redis

from neura.db.models import Video

STAGES = ("queued", "starting", "script", "avatar", "render", "finish", "upload", "done")
TERMINAL_EVENTS = {"succeeded": "completed", "failed": "failed", "cancelled": "cancelled"}
VideoStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class VideoSnapshot(BaseModel):
    """What every progress event carries: the video as it was when the event was sent."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # every field is always sent

    video_id: str
    status: VideoStatus
    stage: str | None = Field(None, description="queued, starting, script, avatar, render, finish, upload, done")
    progress: float = Field(0.0, description="overall, 0..1")
    error: str | None = None
    duration_s: float | None = None
    credits_charged: int | None = None
    message: str | None = Field(None, description="what the stage is doing, for people")
    seq: int = Field(0, description="grows by one per event of the video: drop what you have seen")
    ts: float | None = Field(None, description="when it was published (Unix seconds)")


class VideoStateEvent(VideoSnapshot):
    """The first event of every stream: the video's current state."""

    type: Literal["state"] = "state"


class VideoProgressEvent(VideoSnapshot):
    type: Literal["progress"] = "progress"


class VideoStatusEvent(VideoSnapshot):
    """The video went back to ``queued`` (a retry, or a recovery after a lost worker)."""

    type: Literal["status"] = "status"


class VideoCompletedEvent(VideoSnapshot):
    type: Literal["completed"] = "completed"


class VideoFailedEvent(VideoSnapshot):
    type: Literal["failed"] = "failed"


class VideoCancelledEvent(VideoSnapshot):
    type: Literal["cancelled"] = "cancelled"


VideoEvent = Annotated[
    VideoStateEvent
    | VideoProgressEvent
    | VideoStatusEvent
    | VideoCompletedEvent
    | VideoFailedEvent
    | VideoCancelledEvent,
    Field(discriminator="type"),
]
VIDEO_EVENT: TypeAdapter[VideoEvent] = TypeAdapter(VideoEvent)


def as_event(snapshot: VideoSnapshot, event_type: str) -> VideoEvent:
    """``snapshot`` as the event of type ``event_type``."""
    return VIDEO_EVENT.validate_python({**snapshot.model_dump(exclude={"type"}), "type": event_type})


REPLAY_EVENTS = 50
EVENT_TTL_S = 86_400
CONTROL_PATTERN = "neura:video:*:control"

# KEYS: seq, replay buffer. ARGV: event JSON, ttl, buffer length, channel.
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
local event = cjson.decode(ARGV[1])
event['seq'] = seq
local payload = cjson.encode(event)
redis.call('RPUSH', KEYS[2], payload)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[4], payload)
return payload
"""


def events_channel(video_id: uuid.UUID | str) -> str:
    return f"neura:video:{video_id}:events"


def control_channel(video_id: uuid.UUID | str) -> str:
    """Where the gateway asks the worker rendering a video to stop (message ``cancel``)."""
    return f"neura:video:{video_id}:control"


def _seq_key(video_id: uuid.UUID | str) -> str:
    return f"neura:video:{{{video_id}}}:seq"  # hash tag: both keys in one cluster slot


def replay_key(video_id: uuid.UUID | str) -> str:
    return f"neura:video:{{{video_id}}}:replay"


def video_state(video: Video) -> VideoSnapshot:
    """The part of a video that progress streams carry."""
    return VideoSnapshot(
        video_id=str(video.id),
        status=video.status,  # validated: the database's check constraint holds the same values
        stage=video.stage,
        progress=round(video.progress, 4),
        error=video.error,
        duration_s=video.duration_s,
        credits_charged=video.credits_charged,
    )


def terminal_event(state: VideoSnapshot) -> VideoEvent | None:
    """The terminal event that matches a state, or None while the video is queued or running."""
    kind = TERMINAL_EVENTS.get(state.status)
    return None if kind is None else as_event(state, kind)


class EventPublisher:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_PUBLISH)

    async def publish(self, event: VideoEvent) -> VideoEvent:
        """Append ``event`` to its video's buffer and publish it; returns it with its ``seq`` and ``ts``."""
        video_id = event.video_id
        body = event.model_copy(update={"ts": round(time.time(), 3)}).model_dump_json()
        payload = await self._script(
            keys=[_seq_key(video_id), replay_key(video_id)],
            args=[body, EVENT_TTL_S, REPLAY_EVENTS, events_channel(video_id)],
        )
        return VIDEO_EVENT.validate_json(payload)

    async def publish_state(self, video: Video, event_type: str | None = None) -> VideoEvent:
        """Publish the video's current row: its terminal event when finished, else ``event_type``."""
        state = video_state(video)
        terminal = terminal_event(state)
        return await self.publish(terminal if terminal is not None else as_event(state, event_type or "status"))

    async def request_cancel(self, video_id: uuid.UUID | str) -> None:
        await self._redis.publish(control_channel(video_id), b"cancel")


async def follow_video(
    redis: Redis,
    video_id: uuid.UUID,
    load_state: Callable[[], Awaitable[VideoSnapshot]],
    *,
    recheck_s: float = 5.0,
) -> AsyncIterator[VideoEvent | None]:
    """The current state, then every new event until a terminal one. Yields None when nothing happened
    for ``recheck_s`` (a keep-alive tick); the state is then re-read, so a terminal state whose event
    was never published (a worker died after committing) still ends the stream."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(events_channel(video_id))  # before the snapshot: nothing falls in between
    try:
        buffered = [VIDEO_EVENT.validate_json(raw) for raw in await redis.lrange(replay_key(video_id), 0, -1)]  # type: ignore[misc]
        state = (await load_state()).model_copy(update={"seq": buffered[-1].seq if buffered else 0})
        if buffered and state.status == "running" and buffered[-1].type == "progress":
            newest = buffered[-1]
            state = state.model_copy(
                update={"stage": newest.stage, "progress": newest.progress, "message": newest.message}
            )
        yield as_event(state, "state")
        terminal = terminal_event(state)
        if terminal is not None:
            yield terminal
            return
        last_seq = state.seq
        idle_since = time.monotonic()
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                if time.monotonic() - idle_since < recheck_s:
                    continue
                idle_since = time.monotonic()
                terminal = terminal_event((await load_state()).model_copy(update={"seq": last_seq}))
                if terminal is not None:
                    yield terminal
                    return
                yield None
                continue
            event = VIDEO_EVENT.validate_json(message["data"])
            if event.seq <= last_seq:
                continue
            last_seq = event.seq
            idle_since = time.monotonic()
            yield event
            if event.type in TERMINAL_EVENTS.values():
                return
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()
