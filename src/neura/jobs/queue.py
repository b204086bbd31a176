"""The job queue: arq on Redis. A job carries only an id; the state of the work lives in PostgreSQL.

Job ids are deterministic, so enqueueing is idempotent (arq refuses an id it already holds):

* ``script:<video id>:<attempts>`` — the script step of a prompt video (the language model writes its
  script, then the video goes to the render queue); ``render:<video id>:<attempts>`` — the render of a
  video whose ``attempts`` column had that value when it was queued. A retry or a recovery after a lost
  worker queues the next number, so it is never blocked by the lost run's leftovers, and the sweeper can
  re-enqueue a queued video at any time without making a second job.
* ``webhook:<delivery id>`` — one delivery; its retries reuse the id (arq's ``Retry``).

Renders go to a queue per capability, ``neura:queue:render:<tts engine>`` (the voice's engine is
what a worker may lack: every worker has the CPU renderer), so a job only reaches a worker that can run
it; workers read the queues of what they advertise (:mod:`neura.cluster`). Script steps go to
``neura:queue:script:<tts engine>`` likewise: the script is sized by the voice's measured speaking rate,
and the worker that writes it is one that can render it.

Jobs are serialised as JSON (not arq's default pickle): nothing read from Redis is ever unpickled.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Protocol

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix

from neura.jobs.events import EventPublisher
from neura.tts.providers import TTS

RENDER_QUEUE = "neura:queue:render"
"""Prefix of the render queues, one per TTS engine (:func:`render_queue`)."""
SCRIPT_QUEUE = "neura:queue:script"
"""Prefix of the script-step queues, one per TTS engine (:func:`script_queue`)."""
WEBHOOK_QUEUE = "neura:queue:webhooks"
RENDER_FUNCTION = "render_video"
SCRIPT_FUNCTION = "write_script"
WEBHOOK_FUNCTION = "deliver_webhook"
ARQ_JOB_KEY_PREFIX = "arq:job:"


def serialize_job(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), default=str).encode()


def deserialize_job(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw)
    return value


REDIS_CONNECT_TIMEOUT_S = 5  # arq's default (1 s) fails spuriously on a busy machine


def redis_settings(redis_url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(redis_url)
    settings.conn_timeout = REDIS_CONNECT_TIMEOUT_S
    return settings


def render_queue(voice: str) -> str:
    """The queue of renders speaking ``voice`` ("engine:voice" or an engine name)."""
    return f"{RENDER_QUEUE}:{voice.partition(':')[0]}"


def render_queues() -> list[str]:
    """Every render queue (one per engine of the TTS table)."""
    return [render_queue(engine) for engine in TTS.names()]


def script_queue(voice: str) -> str:
    """The queue of script steps of videos speaking ``voice``."""
    return f"{SCRIPT_QUEUE}:{voice.partition(':')[0]}"


def script_queues() -> list[str]:
    return [script_queue(engine) for engine in TTS.names()]


def render_job_id(video_id: uuid.UUID | str, attempts: int) -> str:
    return f"render:{video_id}:{attempts}"


def script_job_id(video_id: uuid.UUID | str, attempts: int) -> str:
    return f"script:{video_id}:{attempts}"


def needs_script(prompt: str | None, script: dict[str, Any] | None) -> bool:
    """Whether a video's next step is its script step: a prompt whose script is not written yet."""
    return prompt is not None and not script


def webhook_job_id(delivery_id: uuid.UUID | str) -> str:
    return f"webhook:{delivery_id}"


class QueuedVideo(Protocol):
    """What :meth:`JobQueue.enqueue_next` reads of a video (a ``Video`` row has it all)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def attempts(self) -> int: ...
    @property
    def voice(self) -> str: ...
    @property
    def prompt(self) -> str | None: ...
    @property
    def script(self) -> dict[str, Any] | None: ...


def next_job_id(video: QueuedVideo) -> str:
    """The id of a queued video's next job (:meth:`JobQueue.enqueue_next`)."""
    make = script_job_id if needs_script(video.prompt, video.script) else render_job_id
    return make(video.id, video.attempts)


class JobQueue:
    """Enqueues jobs and publishes progress events; used by the gateway (new videos, cancellations) and
    by workers (progress, retries, recovery)."""

    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool
        self.events = EventPublisher(pool)

    @classmethod
    async def connect(cls, redis_url: str) -> JobQueue:
        pool = await create_pool(
            redis_settings(redis_url), job_serializer=serialize_job, job_deserializer=deserialize_job
        )
        return cls(pool)

    async def enqueue_render(
        self, video_id: uuid.UUID | str, attempts: int, voice: str, *, defer_s: float = 0.0
    ) -> bool:
        """Queue the render of a video speaking ``voice`` on its engine's queue; False when that job is
        already queued or running."""
        job_id = render_job_id(video_id, attempts)
        return await self._enqueue(RENDER_FUNCTION, video_id, job_id, render_queue(voice), defer_s)

    async def enqueue_script(
        self, video_id: uuid.UUID | str, attempts: int, voice: str, *, defer_s: float = 0.0
    ) -> bool:
        """Queue the script step of a prompt video; False when that job is already queued or running."""
        job_id = script_job_id(video_id, attempts)
        return await self._enqueue(SCRIPT_FUNCTION, video_id, job_id, script_queue(voice), defer_s)

    async def enqueue_next(self, video: QueuedVideo, *, defer_s: float = 0.0) -> bool:
        """Queue a queued video's next step: its script step when it is a prompt whose script is not
        written yet, else its render."""
        enqueue = self.enqueue_script if needs_script(video.prompt, video.script) else self.enqueue_render
        return await enqueue(video.id, video.attempts, video.voice, defer_s=defer_s)

    async def release_abandoned(self, video: QueuedVideo) -> bool:
        """For a video queued for a while (the sweeper's orphans) whose job exists: when arq marks that
        job in progress, the worker that took it died before it could claim the video (a live worker
        claims within milliseconds of taking a job), and arq would keep the mark for the job's whole
        timeout (``JOB_TIME_LIMIT_S`` + 310 s) while the video waits. The mark is removed, so any worker
        takes the job now. Harmless if that worker is in fact alive: a claim is a conditional UPDATE,
        so a second run of the job finds the video taken and skips it. True when a mark was removed."""
        return bool(await self.pool.delete(in_progress_key_prefix + next_job_id(video)))

    async def enqueue_webhook(self, delivery_id: uuid.UUID | str, *, defer_s: float = 0.0) -> bool:
        return await self._enqueue(WEBHOOK_FUNCTION, delivery_id, webhook_job_id(delivery_id), WEBHOOK_QUEUE, defer_s)

    async def _enqueue(self, function: str, arg: uuid.UUID | str, job_id: str, queue: str, defer_s: float) -> bool:
        job = await self.pool.enqueue_job(
            function, str(arg), _job_id=job_id, _queue_name=queue, _defer_by=defer_s or None
        )
        return job is not None

    async def depth(self) -> int:
        """Render jobs in the queues: waiting, deferred for a retry, or running (arq drops a job when it
        ends). Script steps are not counted: they wait on a language model, not on render capacity, so
        they are no reason to add workers."""
        return sum([int(await self.pool.zcard(queue)) for queue in render_queues()])

    async def close(self) -> None:
        await self.pool.aclose()
