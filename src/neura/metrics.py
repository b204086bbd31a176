"""Prometheus metrics, defined once per process and exported at ``/metrics``."""

from __future__ import annotations

import threading

from prometheus_client import Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "neura_http_request_duration_seconds",
    "HTTP request latency by route and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUEUE_DEPTH = Gauge("neura_queue_depth", "Jobs waiting in the render queue")
JOBS_BY_STATE = Gauge("neura_jobs", "Video jobs by state", ["state"])
RENDER_DURATION = Histogram(
    "neura_render_duration_seconds",
    "Wall time of a render job on a worker",
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
)
LIVE_STAGE_LATENCY = Histogram(
    "neura_live_stage_latency_seconds",
    "Live-session latency from the user's message to each stage",
    ["stage"],
    buckets=(0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2, 5),
)
LIVE_SESSIONS = Gauge("neura_live_sessions", "Open live sessions on this process")

# what a long run must not accumulate (bench/soak.py reads them): the event loop's tasks are counted at
# each scrape of the gateway's /metrics route; peer connections by neura.live.peer
EVENT_LOOP_TASKS = Gauge("neura_event_loop_tasks", "asyncio tasks on the gateway's event loop")
THREADS = Gauge("neura_threads", "Threads of this process")
THREADS.set_function(threading.active_count)
LIVE_PEER_CONNECTIONS = Gauge("neura_live_peer_connections", "WebRTC peer connections not yet freed")
