"""Graceful drain on SIGTERM, in the order a load balancer (or Kubernetes) needs it:

1. readiness turns false (``/readyz`` answers 503 ``draining``), the process advertises itself as
   draining (no new render, stream or live session is routed here) and a media process tells each
   live session's client ``{"type": "draining"}`` on its data channel;
2. for ``DRAIN_UNREADY_S`` the process still takes connections, so that a balancer that has not yet
   seen the readiness change sends nothing into the void; a media process meanwhile lets its sessions'
   turns finish (up to ``DRAIN_TIMEOUT_S``) and closes each session once its turn is over;
3. then uvicorn's own graceful shutdown: it stops listening, finishes the requests in flight (up to
   ``DRAIN_TIMEOUT_S``) and runs the lifespan shutdown.

A second SIGTERM or SIGINT skips the wait. Used by ``neura serve`` (one process; with ``--workers N``
uvicorn's supervisor runs plain servers, which stop at once and finish their requests in flight).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

from neura.gateway.state import AppState

log = logging.getLogger("neura.gateway")


async def drain_gateway(state: AppState) -> None:
    """Steps 1 and 2 above: returns when the process may stop listening."""
    settings = state.settings
    started_s = time.monotonic()
    state.draining = True
    if state.advertiser is not None:
        await state.advertiser.drain()
    if state.live is not None:
        await state.live.drain(settings.drain_timeout_s)
    rest_s = settings.drain_unready_s - (time.monotonic() - started_s)
    if rest_s > 0:
        await asyncio.sleep(rest_s)


class DrainingServer(uvicorn.Server):
    """uvicorn's server, whose first SIGTERM/SIGINT drains the app (:func:`drain_gateway`) before the
    usual graceful shutdown."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.neura_app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        state: AppState | None = getattr(self.neura_app.state, "neura", None)  # set once the lifespan started
        if self._drain is not None or self._loop is None or state is None:
            super().handle_exit(sig, frame)  # a second signal, or nothing to drain: stop now
            return
        self._captured_signals.append(sig)  # re-raised after the shutdown, as uvicorn does
        self._loop.call_soon_threadsafe(self._begin, state)

    def _begin(self, state: AppState) -> None:
        log.info("draining: readiness is false; finishing what is in progress")
        self._drain = asyncio.get_running_loop().create_task(self._drain_then_exit(state), name="drain")

    async def _drain_then_exit(self, state: AppState) -> None:
        try:
            await drain_gateway(state)
        finally:
            self.should_exit = True
