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
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from neura.errors import AuthError
from neura.gateway.deps import SettingsDep, State

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: PostgreSQL, Redis and storage are reachable")
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


@router.get("/metrics", summary="Prometheus metrics", response_class=Response, include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    if not settings.metrics_token:
        raise StarletteHTTPException(404, "Not Found")  # indistinguishable from a path that does not exist
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode("latin-1"), expected):
        raise AuthError("the metrics token is missing or wrong", hint="send 'Authorization: Bearer <METRICS_TOKEN>'")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
