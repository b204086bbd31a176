"""After a transaction that finished a video commits: tell the streams, then queue the webhooks."""

from __future__ import annotations

import logging
import uuid

from redis.exceptions import RedisError

from neura.db.models import Video
from neura.jobs.events import EventPublisher
from neura.jobs.queue import JobQueue

log = logging.getLogger(__name__)


async def announce(queue: JobQueue, publisher: EventPublisher, video: Video, deliveries: list[uuid.UUID]) -> None:
    """Publish the video's new state and enqueue its webhook deliveries.

    Both are recoverable when Redis fails here: event streams re-read PostgreSQL while idle, and the
    sweeper re-enqueues pending deliveries; so a Redis error is logged, not raised."""
    try:
        await publisher.publish_state(video)
        for delivery_id in deliveries:
            await queue.enqueue_webhook(delivery_id)
    except RedisError as exc:
        log.warning("could not announce video %s (%s): the sweeper will catch up", video.id, exc)
