"""Liveness, readiness and Prometheus metrics.

``/metrics`` is not public: without ``METRICS_TOKEN`` it is a 404 like any unknown path (scrape the
internal ``METRICS_PORT`` of ``neura serve`` instead); with it, only ``Authorization: Bearer <token>``
reads it.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from neura.errors import AuthError, NotFoundError
from neura.gateway.deps import SettingsDep, State
from neura.gateway.errors import raises
from neura.metrics import EVENT_LOOP_TASKS

router = APIRouter(tags=["operations"])


class Readiness(BaseModel):
    status: str  # "ready", "not ready" or "draining" (SIGTERM received: send nothing new here)
    checks: dict[str, str]  # postgres, redis, storage: "ok" or "error: ..."


@router.get("/healthz", operation_id="getLiveness", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="Readiness: PostgreSQL, Redis and storage are reachable, and the process is not draining",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready: `checks` names what failed"}},
)
async def readyz(state: State) -> JSONResponse:
    if state.draining:  # the first step of a graceful stop: balancers take this process out first
        return JSONResponse({"status": "draining", "checks": {}}, status_code=503)

    async def database() -> None:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def redis() -> None:
        await state.redis.ping()

    async def storage() -> None:
        await state.storage.check()

    checks: dict[str, Any] = {}
    for name, check in (("postgres", database), ("redis", redis), ("storage", storage)):
        try:
            await asyncio.wait_for(check(), timeout=2.0)
            checks[name] = "ok"
        except Exception as exc:  # readiness reports every failure as data; it must never raise
            checks[name] = f"error: {type(exc).__name__}: {exc}"[:200]
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics (only with METRICS_TOKEN set, for Authorization: Bearer <METRICS_TOKEN>)",
    response_class=Response,
)
@raises(NotFoundError, AuthError)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    if not settings.metrics_token:  # answered as a path that does not exist would be
        raise NotFoundError("Not Found", hint="check the path: every route is listed at /docs")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode("latin-1"), expected):
        raise AuthError("the metrics token is missing or wrong", hint="send 'Authorization: Bearer <METRICS_TOKEN>'")
    EVENT_LOOP_TASKS.set(len(asyncio.all_tasks()))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
