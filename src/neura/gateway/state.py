"""What a gateway process holds for its lifetime: settings, the database pool and the Redis client.

Stateless by design: everything a request needs to survive a restart lives in PostgreSQL, Redis or
object storage, so any number of gateways can serve the same users.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from neura.cluster.capabilities import CapabilityRegistry
from neura.config import Settings
from neura.db.session import make_engine, make_sessionmaker
from neura.jobs import JobQueue
from neura.llm.probe import ProbeCache
from neura.storage import Storage, create_storage

if TYPE_CHECKING:
    import httpx

    from neura.cluster.local import Advertiser
    from neura.gateway.listener import OwnListener
    from neura.live import LiveManager
    from neura.live.registry import LiveRegistry


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    storage: Storage
    capabilities: CapabilityRegistry  # what workers and media processes advertise (GET /v1/capabilities)
    instance_id: str = ""  # this process, in forwarded requests and the registries
    queue: JobQueue | None = None  # connected by start_jobs() in the app's lifespan
    live: LiveManager | None = None  # started by neura.gateway.routes.live.start_live in the lifespan
    live_listener: OwnListener | None = None  # this process's own port (LIVE_INTERNAL_URL on port 0)
    live_registry: LiveRegistry | None = None  # the api role: where live sessions run (it runs none)
    advertiser: Advertiser | None = None  # media and all roles: this process's capabilities, kept fresh
    draining: bool = False  # SIGTERM received: /readyz is false, nothing new is routed here
    llm_probes: ProbeCache = field(default_factory=ProbeCache)  # GET /v1/llm/providers, a few seconds old at most
    _http: httpx.AsyncClient | None = field(default=None, init=False, repr=False)
    _job_metrics: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _advertising: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    @classmethod
    def create(cls, settings: Settings) -> AppState:
        engine = make_engine(settings.sqlalchemy_url)
        redis = Redis.from_url(settings.redis_url, decode_responses=False)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            redis=redis,
            storage=create_storage(settings),
            capabilities=CapabilityRegistry(redis, ttl_s=settings.capability_ttl_s),
            instance_id=settings.live_instance_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        )

    async def start_jobs(self) -> None:
        """Connect the job queue and keep the queue/job gauges fresh for /metrics."""
        from neura.gateway.job_metrics import refresh_forever

        self.queue = await JobQueue.connect(self.settings.redis_url)
        self._job_metrics = asyncio.create_task(refresh_forever(self), name="job-metrics")

    @property
    def http(self) -> httpx.AsyncClient:
        """The client that forwards to other processes (:mod:`neura.gateway.proxy`), made on first use:
        httpx is imported only by a process that forwards something."""
        if self._http is None:
            from neura.gateway.proxy import new_client

            self._http = new_client()
        return self._http

    @property
    def jobs(self) -> JobQueue:
        if self.queue is None:
            raise RuntimeError("the job queue is not connected: call AppState.start_jobs() first")
        return self.queue

    async def advertise(self, advertiser: Advertiser) -> None:
        """Advertise this process's capabilities now and every few seconds until :meth:`close`."""
        self.advertiser = advertiser
        await advertiser.advertise()
        self._advertising = asyncio.create_task(advertiser.forever(), name="capabilities")

    async def close(self) -> None:
        for task in (self._job_metrics, self._advertising):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self.advertiser is not None:
            await self.advertiser.withdraw()
        if self._http is not None:
            await self._http.aclose()
        if self.queue is not None:
            await self.queue.close()
        await self.redis.aclose()
        await self.engine.dispose()
