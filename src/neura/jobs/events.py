"""Progress events of a video: a Redis pub/sub channel per video plus a short replay buffer.

An event is a JSON object ``{"type", "video_id", "seq", "ts", "status", "stage", "progress", ...}``:

* ``state`` — the first event of every stream: the video's current state (PostgreSQL, refreshed by the
  newest buffered event, since the worker writes progress to the database less often than it publishes);
* ``progress`` — a stage advanced (``stage`` is one of :data:`STAGES`, ``progress`` is overall, 0..1);
* ``status`` — the video went back to ``queued`` (a retry, or a recovery after a lost worker);
* ``completed`` | ``failed`` | ``cancelled`` — terminal; a stream ends after it.

``seq`` grows by one per event of a video (one Lua script increments it, appends the event to the
buffer and publishes it, atomically), so a subscriber drops what its snapshot already covered.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from neura.db.models import Video

STAGES = ("queued", "starting", "script", "avatar", "render", "finish", "upload", "done")
TERMINAL_EVENTS = {"succeeded": "completed", "failed": "failed", "cancelled": "cancelled"}
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


def _replay_key(video_id: uuid.UUID | str) -> str:
    return f"neura:video:{{{video_id}}}:replay"


def video_state(video: Video) -> dict[str, Any]:
    """The part of a video that progress streams carry."""
    return {
        "video_id": str(video.id),
        "status": video.status,
        "stage": video.stage,
        "progress": round(video.progress, 4),
        "error": video.error,
        "duration_s": video.duration_s,
        "credits_charged": video.credits_charged,
    }


def terminal_event(state: dict[str, Any]) -> dict[str, Any] | None:
    """The terminal event that matches a state, or None while the video is queued or running."""
    kind = TERMINAL_EVENTS.get(state["status"])
    return None if kind is None else {**state, "type": kind}


class EventPublisher:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_PUBLISH)

    async def publish(self, video_id: uuid.UUID | str, event: dict[str, Any]) -> dict[str, Any]:
        """Append ``event`` to the video's buffer and publish it; returns it with its ``seq``."""
        body = {"video_id": str(video_id), "ts": round(time.time(), 3), **event}
        payload = await self._script(
            keys=[_seq_key(video_id), _replay_key(video_id)],
            args=[json.dumps(body), EVENT_TTL_S, REPLAY_EVENTS, events_channel(video_id)],
        )
        published: dict[str, Any] = json.loads(payload)
        return published

    async def publish_state(self, video: Video, event_type: str | None = None) -> dict[str, Any]:
        """Publish the video's current row: its terminal event when finished, else ``event_type``."""
        state = video_state(video)
        terminal = terminal_event(state)
        if terminal is not None:
            return await self.publish(video.id, terminal)
        return await self.publish(video.id, {**state, "type": event_type or "status"})

    async def request_cancel(self, video_id: uuid.UUID | str) -> None:
        await self._redis.publish(control_channel(video_id), b"cancel")


async def follow_video(
    redis: Redis,
    video_id: uuid.UUID,
    load_state: Callable[[], Awaitable[dict[str, Any]]],
    *,
    recheck_s: float = 5.0,
) -> AsyncIterator[dict[str, Any] | None]:
    """The current state, then every new event until a terminal one. Yields None when nothing happened
    for ``recheck_s`` (a keep-alive tick); the state is then re-read, so a terminal state whose event
    was never published (a worker died after committing) still ends the stream."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(events_channel(video_id))  # before the snapshot: nothing falls in between
    try:
        buffered = [json.loads(raw) for raw in await redis.lrange(_replay_key(video_id), 0, -1)]  # type: ignore[misc]
        state = await load_state()
        last_seq = int(buffered[-1]["seq"]) if buffered else 0
        if buffered and state["status"] == "running" and buffered[-1]["type"] == "progress":
            newest = buffered[-1]
            state.update(stage=newest["stage"], progress=newest["progress"], message=newest.get("message"))
        yield {**state, "type": "state", "seq": last_seq}
        terminal = terminal_event(state)
        if terminal is not None:
            yield {**terminal, "seq": last_seq}
            return
        idle_since = time.monotonic()
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                if time.monotonic() - idle_since < recheck_s:
                    continue
                idle_since = time.monotonic()
                terminal = terminal_event(await load_state())
                if terminal is not None:
                    yield {**terminal, "seq": last_seq}
                    return
                yield None
                continue
            event = json.loads(message["data"])
            if int(event["seq"]) <= last_seq:
                continue
            last_seq = int(event["seq"])
            idle_since = time.monotonic()
            yield event
            if event["type"] in TERMINAL_EVENTS.values():
                return
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()
