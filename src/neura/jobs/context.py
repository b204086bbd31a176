"""What a worker process holds for its lifetime, shared by its jobs and its sweeper."""

from __future__ import annotations

import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from neura.config import Settings
from neura.db.session import make_engine, make_sessionmaker
from neura.jobs.events import EventPublisher
from neura.jobs.queue import JobQueue
from neura.storage import Storage, create_storage

if TYPE_CHECKING:
    from neura.jobs.run import JobRun

STALE_HEARTBEATS = 3  # a run is presumed dead after this many missed heartbeats


def stale_after_s(settings: Settings) -> float:
    return STALE_HEARTBEATS * settings.worker_heartbeat_s


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class WorkerContext:
    settings: Settings
    worker_id: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: Storage
    queue: JobQueue
    publisher: EventPublisher
    executor: ThreadPoolExecutor
    runs: dict[uuid.UUID, JobRun] = field(default_factory=dict)  # renders and script steps in progress here

    @classmethod
    async def start(cls, settings: Settings, concurrency: int) -> WorkerContext:
        engine = make_engine(settings.sqlalchemy_url, pool_size=max(2, concurrency + 2))
        queue = await JobQueue.connect(settings.redis_url)
        return cls(
            settings=settings,
            worker_id=new_worker_id(),
            engine=engine,
            sessions=make_sessionmaker(engine),
            storage=create_storage(settings),
            queue=queue,
            publisher=queue.events,
            executor=ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="neura-render"),
        )

    @property
    def stale_after_s(self) -> float:
        return stale_after_s(self.settings)

    async def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        await self.queue.close()
        await self.engine.dispose()
