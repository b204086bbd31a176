"""The FastAPI gateway: ``create_app(settings)``; ``neura serve`` runs it under uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from neura import __version__
from neura.config import Settings
from neura.gateway.browser import install_cors
from neura.gateway.docs import install_docs, limits_description
from neura.gateway.errors import install_error_handlers
from neura.gateway.middleware import BodySizeLimitMiddleware, HeaderLimitMiddleware, RequestContextMiddleware
from neura.gateway.openapi import fallback_operation_id, install_openapi
from neura.gateway.routes import (
    align,
    api_keys,
    auth,
    avatar_samples,
    avatars,
    events,
    files,
    health,
    live,
    llm,
    me,
    plans,
    scripts,
    transcriptions,
    tts,
    tts_stream,
    video_estimate,
    videos,
    voice_samples,
    voices,
    webhooks,
    whep,
)
from neura.gateway.state import AppState
from neura.memory import limit_arenas

log = logging.getLogger("neura.gateway")

DESCRIPTION = """
NEURA's HTTP API: accounts and credits, avatars from photos, voices, offline video jobs rendered on
workers with live progress, NEURA's own TTS and speech recognition, and live avatar sessions over WebRTC.

Authenticate with `Authorization: Bearer <access token>` (from `/v1/auth/login`) or
`X-API-Key: nk_...` (from `/v1/api-keys`). Errors are JSON: `{"error": {"code", "message", "hint"},
"request_id"}` (`hint` is null when there is nothing more to say) with a status code that means what
it says: 400 a body that is not JSON, 415 another media type, 422 a field that is wrong, 401 no or bad
credentials, 402 too few credits, 403 the plan does not allow it, 404 not yours or not there, 409 the
state does not allow it, 413 too big, 429 too many (with `Retry-After`), 503 an engine or service that
is not available here.
"""


def create_app(settings: Settings) -> FastAPI:
    settings.check_production_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limit_arenas(settings.malloc_arenas)  # before the live sessions' threads start allocating
        state = AppState.create(settings)
        app.state.neura = state
        try:
            await state.start_jobs()
            await live.start_live(state, app)
        except BaseException:
            await state.close()  # a failed start-up leaves no pool, connection or listener behind
            raise
        try:
            yield
        finally:
            await live.stop_live(state)
            await state.close()

    app = FastAPI(
        title="NEURA API",
        version=__version__,
        description=DESCRIPTION + limits_description(settings),
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # served by install_docs from the package's own files: no CDN
        redoc_url=None,
        generate_unique_id_function=fallback_operation_id,
    )
    install_docs(app)
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        large_paths={
            "/v1/avatars": settings.max_upload_bytes,
            "/v1/align": settings.max_upload_bytes,
            "/v1/audio/transcriptions": settings.max_upload_bytes,
        },
    )
    app.add_middleware(
        HeaderLimitMiddleware,
        max_total_bytes=settings.max_header_bytes,
        max_value_bytes=settings.max_header_value_bytes,
        max_count=settings.max_header_count,
    )
    app.add_middleware(RequestContextMiddleware)
    install_cors(app, settings)  # outermost: preflights are answered first, errors carry CORS headers too
    routers = [
        health.router,
        auth.router,
        me.router,
        api_keys.router,
        plans.router,
        avatars.router,
        avatar_samples.router,
        voices.router,
        voice_samples.router,
        tts.router,
        tts_stream.router,
        align.router,
        transcriptions.router,
        videos.router,
        video_estimate.router,
        scripts.router,
        llm.router,
        events.router,
        files.router,
        webhooks.router,
        live.router,
        whep.router,
    ]
    for router in routers:
        app.include_router(router)
    install_openapi(app, routers)
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI schema, without a server, a database or the environment (``neura openapi``)."""
    return create_app(Settings.model_construct()).openapi()


def app_from_environment() -> FastAPI:
    """uvicorn factory for ``neura serve``: settings from the environment."""
    from neura.config import get_settings

    return create_app(get_settings())
