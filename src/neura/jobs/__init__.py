"""Offline video jobs: the queue (arq on Redis, ids only), the worker, recovery and webhooks.

Job state lives in PostgreSQL (``videos``); Redis carries job ids and progress events. See
``docs/decisions/job-queue.md``.
"""

from neura.jobs.events import EventPublisher, follow_video, video_state
from neura.jobs.queue import JobQueue

__all__ = ["EventPublisher", "JobQueue", "follow_video", "video_state"]
