"""A worker process (``neura worker``): arq workers, the cancellation listener, the sweeper and the
advertisement of its capabilities.

* ``neura:queue:render:<engine>`` — renders, one queue per TTS engine this worker has (all installed
  here, or those of ``--capability``), at most ``concurrency`` at a time over all of them (each on a
  thread: CPU-heavy);
* ``neura:queue:script:<engine>`` — the script steps of prompt videos (:mod:`neura.jobs.script`), for
  the same engines: language model calls, I/O only, up to ``SCRIPT_CONCURRENCY`` at once on the event
  loop beside the renders, none holding a render slot;
* ``neura:queue:webhooks`` — webhook deliveries, I/O only, so a long render never delays them;
* a pattern subscription to ``neura:video:*:control`` that stops a render here within about a second
  when its user cancels it (the heartbeat's database flag is the fallback);
* the recovery sweeper (:mod:`neura.jobs.sweeper`).

A Redis or PostgreSQL restart only pauses it (:func:`keep_polling`, the sweeper's retries).
SIGTERM/SIGINT drain it: it withdraws its capabilities and takes no new job, lets the renders and script
steps in progress finish for up to ``DRAIN_TIMEOUT_S``, then stops the rest and hands them back to the queue
without counting an attempt (exactly-once completion in PostgreSQL means none is charged twice).
A SIGKILL leaves them ``running``; another worker's sweeper re-queues them once their heartbeat is stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import uuid
from collections.abc import Callable
from typing import Any

from arq import Worker, func
from redis.exceptions import RedisError

from neura.cluster.capabilities import CapabilityRegistry
from neura.cluster.local import Advertiser, local_capabilities
from neura.config import Settings
from neura.jobs.context import WorkerContext
from neura.jobs.events import CONTROL_PATTERN
from neura.jobs.queue import (
    RENDER_FUNCTION,
    SCRIPT_FUNCTION,
    WEBHOOK_FUNCTION,
    WEBHOOK_QUEUE,
    deserialize_job,
    redis_settings,
    render_queue,
    script_queue,
    serialize_job,
)
from neura.jobs.render import render_job
from neura.jobs.script import script_job
from neura.jobs.sweeper import sweep_forever
from neura.jobs.webhooks import MAX_ATTEMPTS, TIMEOUT_S, deliver
from neura.memory import limit_arenas

log = logging.getLogger(__name__)

WEBHOOK_CONCURRENCY = 10
POLL_DELAY_S = 0.25
REDIS_RETRY_S = 1.0  # after losing Redis, try again this often


async def webhook_job(ctx: dict[str, Any], delivery_id: str) -> str:
    """arq entry point (``deliver_webhook``)."""
    jobs: WorkerContext = ctx["neura"]
    return await deliver(jobs.sessions, jobs.settings, uuid.UUID(delivery_id))


def share_limit(workers: list[Worker], limit: int) -> None:
    """One limit of ``limit`` jobs at a time over all ``workers`` (arq takes a permit before it claims)."""
    shared = asyncio.BoundedSemaphore(limit)
    for worker in workers:
        worker.sem = shared


def build_workers(
    jobs: WorkerContext, concurrency: int, engines: list[str]
) -> tuple[list[Worker], list[Worker], list[Worker]]:
    """(render workers, one per engine's queue, sharing one limit of ``concurrency``; script-step
    workers, one per engine's queue, sharing one limit of ``SCRIPT_CONCURRENCY``; webhook workers)."""
    settings = jobs.settings
    common: dict[str, Any] = {
        "redis_settings": redis_settings(settings.redis_url),
        "ctx": {"neura": jobs},
        "handle_signals": False,
        "keep_result": 0,  # outcomes live in PostgreSQL
        "poll_delay": POLL_DELAY_S,
        "job_serializer": serialize_job,
        "job_deserializer": deserialize_job,
        "log_results": False,
    }
    render = func(
        render_job,
        name=RENDER_FUNCTION,
        timeout=settings.job_time_limit_s + 300,  # our own limit (job_time_limit_s) fires first
        keep_result=0,
        max_tries=20,  # attempts are counted in PostgreSQL; this only bounds shutdown-and-rerun loops
    )
    script = func(
        script_job,
        name=SCRIPT_FUNCTION,
        timeout=settings.job_time_limit_s + 300,
        keep_result=0,
        max_tries=20,
    )
    webhook = func(webhook_job, name=WEBHOOK_FUNCTION, timeout=TIMEOUT_S * 3, keep_result=0, max_tries=MAX_ATTEMPTS + 2)
    renders = [
        Worker(functions=[render], queue_name=render_queue(engine), max_jobs=concurrency, **common)
        for engine in engines
    ]
    share_limit(renders, concurrency)
    scripts_at_once = settings.script_concurrency
    scripts = [
        Worker(functions=[script], queue_name=script_queue(engine), max_jobs=scripts_at_once, **common)
        for engine in engines
    ]
    share_limit(scripts, scripts_at_once)
    webhooks = [Worker(functions=[webhook], queue_name=WEBHOOK_QUEUE, max_jobs=WEBHOOK_CONCURRENCY, **common)]
    return renders, scripts, webhooks


async def drain(workers: list[Worker], timeout_s: float) -> None:
    """Take no new render or script step and wait up to ``timeout_s`` for those in progress (the rest
    are stopped and handed back by ``Worker.close``)."""
    for worker in workers:
        if worker.main_task is not None:
            worker.main_task.cancel()  # the poller only: running jobs are tasks of their own
    running = [task for worker in workers for task in worker.tasks.values() if not task.done()]
    if running:
        log.info("draining: waiting up to %.0f s for %d job(s)", timeout_s, len(running))
        await asyncio.wait(running, timeout=timeout_s)


async def listen_for_cancellations(jobs: WorkerContext) -> None:
    """Stop a render on this worker as soon as its user cancels it."""
    while True:
        pubsub = jobs.queue.pool.pubsub()
        try:
            await pubsub.psubscribe(CONTROL_PATTERN)
            async for message in pubsub.listen():
                if message["type"] != "pmessage" or message["data"] != b"cancel":
                    continue
                channel = message["channel"].decode()
                with contextlib.suppress(ValueError, IndexError):
                    run = jobs.runs.get(uuid.UUID(channel.split(":")[2]))
                    if run is not None:
                        run.stop("user")
        except (RedisError, OSError) as exc:
            log.warning("cancellation listener lost Redis (%s); reconnecting", exc)
            await asyncio.sleep(REDIS_RETRY_S)
        finally:
            await pubsub.aclose()


async def keep_polling(worker: Worker) -> None:
    """arq's poll loop, started again whenever Redis fails under it: a Redis restart pauses the queue
    instead of ending the worker process (jobs already running go on; arq's pool reconnects)."""
    while True:
        try:
            await worker.main()
            return
        except (RedisError, OSError) as exc:
            log.warning("queue %s lost Redis (%s); polling again in %.0f s", worker.queue_name, exc, REDIS_RETRY_S)
            await asyncio.sleep(REDIS_RETRY_S)


async def run_worker(
    settings: Settings,
    concurrency: int,
    *,
    engines: list[str] | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run until SIGTERM or SIGINT. ``engines``: the TTS engines whose renders it takes (None: every
    engine with a voice installed here)."""
    limit_arenas(settings.malloc_arenas)  # before the render threads start allocating
    jobs = await WorkerContext.start(settings, concurrency)
    capabilities = await asyncio.to_thread(
        local_capabilities, settings, jobs.worker_id, "worker", engines=engines or ()
    )
    advertiser = Advertiser(
        CapabilityRegistry(jobs.queue.pool, ttl_s=settings.capability_ttl_s),
        capabilities,
        load=lambda: sum(1 for run in jobs.runs.values() if run.holds_render_slot),
        capacity=concurrency,
    )
    renders, scripts, webhooks = build_workers(jobs, concurrency, capabilities.tts_engines)
    workers = [*renders, *scripts, *webhooks]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    sweep_interval_s = max(1.0, 2 * settings.worker_heartbeat_s)
    tasks = []
    for worker in workers:
        worker.main_task = asyncio.create_task(keep_polling(worker), name=f"arq-{worker.queue_name}")
        tasks.append(worker.main_task)
    tasks.append(asyncio.create_task(listen_for_cancellations(jobs), name="cancellations"))
    tasks.append(asyncio.create_task(sweep_forever(jobs, sweep_interval_s), name="sweeper"))
    await advertiser.advertise()
    tasks.append(asyncio.create_task(advertiser.forever(), name="capabilities"))
    if on_ready is not None:
        on_ready(jobs.worker_id)
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = None if task is stopper or task.cancelled() else task.exception()
            if error is not None:
                raise error
        log.info("worker %s draining", jobs.worker_id)
        await advertiser.withdraw()  # the API stops routing here first
        await drain([*renders, *scripts], settings.drain_timeout_s)
    finally:
        log.info("worker %s stopping", jobs.worker_id)
        await advertiser.withdraw()
        for worker in workers:
            await worker.close()  # cancels its poller and running jobs: each hands its video back
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        stopper.cancel()
        await jobs.close()
