"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from neura.gateway.deps import State

router = APIRouter(tags=["operations"])


class Readiness(BaseModel):
    status: str  # "ready" or "not ready"
    checks: dict[str, str]  # postgres, redis, storage: "ok" or "error: ..."


@router.get("/healthz", operation_id="getLiveness", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="Readiness: PostgreSQL, Redis and storage are reachable",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready: `checks` names what failed"}},
)
async def readyz(state: State) -> JSONResponse:
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


@router.get("/metrics", operation_id="getMetrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
