"""The FastAPI gateway: ``create_app(settings)``; ``neura serve`` runs it under uvicorn.

``settings.role`` picks what the process does. ``all`` (the default) and ``media`` serve every route
and run speech, avatars and live sessions here; ``media`` processes also advertise themselves for API
processes to forward to (``all`` does too, so one can sit behind them). ``api`` serves accounts,
videos, events and files itself and forwards the media routes (:mod:`neura.gateway.routes.media_forward`):
its routes are imported here only for its role, so it never loads an engine, OpenCV, PyAV or aiortc.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Any

from fastapi import APIRouter, FastAPI

from neura import __version__
from neura.config import Settings
from neura.gateway.browser import install_cors
from neura.gateway.docs import install_docs, limits_description
from neura.gateway.errors import install_error_handlers
from neura.gateway.middleware import BodySizeLimitMiddleware, HeaderLimitMiddleware, RequestContextMiddleware
from neura.gateway.openapi import fallback_operation_id, install_openapi
from neura.gateway.state import AppState
from neura.memory import freeze_startup_objects, limit_arenas

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


ROUTE_MODULES = (  # neura.gateway.routes.<name>, in the order of the OpenAPI document
    "health",
    "auth",
    "me",
    "api_keys",
    "plans",
    "avatars",
    "avatar_samples",
    "voices",
    "voice_samples",
    "tts",
    "tts_stream",
    "align",
    "transcriptions",
    "videos",
    "video_estimate",
    "scripts",
    "llm",
    "events",
    "files",
    "webhooks",
    "live",
    "whep",
    "capabilities",
)
MEDIA_ROUTE_MODULES = frozenset(
    {
        "avatars",
        "avatar_samples",
        "voices",
        "voice_samples",
        "tts",
        "tts_stream",
        "align",
        "transcriptions",
        "live",
        "whep",
    }
)
"""The routes that run engines (speech, avatars, live sessions): an ``api`` process forwards them."""


def _routers(role: str) -> list[APIRouter]:
    """The routers a process of ``role`` serves itself, imported only then (a media route's module
    imports its engines)."""
    names = [n for n in ROUTE_MODULES if role != "api" or n not in MEDIA_ROUTE_MODULES]
    return [import_module(f"neura.gateway.routes.{name}").router for name in names]


async def _start_role(state: AppState, app: FastAPI) -> None:
    if state.settings.role == "api":
        from neura.live.registry import LiveRegistry

        state.live_registry = LiveRegistry(
            state.redis, instance_id=state.instance_id, url="", capacity=0, ttl_s=state.settings.capability_ttl_s
        )
        return
    from neura.cluster.capabilities import CapabilityRegistry
    from neura.cluster.local import Advertiser, local_capabilities
    from neura.gateway.routes import live

    await live.start_live(state, app)
    manager = state.live
    if manager is not None:
        found = await asyncio.to_thread(  # reads the voice and model folders
            local_capabilities, state.settings, manager.instance_id, "media", url=manager.internal_url
        )
        registry = CapabilityRegistry(state.redis, ttl_s=state.settings.capability_ttl_s)
        await state.advertise(
            Advertiser(registry, found, load=lambda: manager.open_sessions, capacity=manager.capacity)
        )


async def _stop_role(state: AppState) -> None:
    if state.settings.role != "api":
        from neura.gateway.routes import live

        await live.stop_live(state)


def create_app(settings: Settings, *, owns_process: bool = False) -> FastAPI:
    """The gateway for ``settings``. ``owns_process``: it is the service this process runs (``neura serve``,
    the uvicorn factory), so once started it freezes what it loaded (:func:`freeze_startup_objects`). An
    app built inside another program (a test, a bench harness) leaves that program's collector alone: a
    freeze there would keep whatever garbage the program had not yet collected for good."""
    settings.check_production_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limit_arenas(settings.malloc_arenas)  # before the live sessions' threads start allocating
        state = AppState.create(settings)
        app.state.neura = state
        try:
            await state.start_jobs()
            await _start_role(state, app)
            if owns_process:
                freeze_startup_objects()  # the app's modules and routes: no collection walks them again
        except BaseException:
            await state.close()  # a failed start-up leaves no pool, connection or listener behind
            raise
        try:
            yield
        finally:
            await _stop_role(state)
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
    routers = _routers(settings.role)
    for router in routers:
        app.include_router(router)
    install_openapi(app, routers)  # an api process's forwarded routes are the media processes' to document
    if settings.role == "api":
        from neura.gateway.routes import media_forward

        app.include_router(media_forward.router)
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI schema, without a server, a database or the environment (``neura openapi``)."""
    return create_app(Settings.model_construct()).openapi()


def app_from_environment() -> FastAPI:
    """uvicorn factory for ``neura serve``: settings from the environment."""
    from neura.config import get_settings

    return create_app(get_settings(), owns_process=True)
