"""The API's documentation pages, served whole by the gateway: ``/docs`` (Swagger UI) and ``/redoc``
(ReDoc) load their scripts, styles and icon from ``/docs/assets``, files that come inside the
``fastapi-offline`` package (Swagger UI: Apache-2.0; ReDoc: MIT), never from a CDN. So the docs work on
a machine without internet, and a browser sends nothing to a third party to read them.

The page text also states the limits a client meets (:mod:`neura.limits`, the upload and body sizes
of this server's settings, the plans).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from neura import limits
from neura.config import Settings

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/docs/assets"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets; create ``app`` with ``docs_url=None, redoc_url=None``."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title}: documentation",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            oauth2_redirect_url=root + OAUTH2_REDIRECT_PATH,
        )

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title}: reference",
            redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )


def _root_path(request: Request) -> str:
    """Where the app is mounted behind a proxy ("" at the root): the pages' own URLs start with it."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def limits_description(settings: Settings) -> str:
    """The "Limits" part of the API description, with this server's own upload and body sizes."""
    plans = "\n".join(
        f"| {p.name} | {p.monthly_credits:,} | {p.max_video_s} s | {p.max_resolution} | {p.concurrent_jobs} | "
        f"{p.live_minutes} | {p.concurrent_live_sessions} |"
        for p in limits.PLANS.values()
    )
    return f"""
## Limits

- a script: at most {limits.SCRIPT_MAX_CHARS:,} characters of narration in {limits.SCRIPT_MAX_SCENES} scenes
  (blank-line separated paragraphs); a prompt: at most {limits.PROMPT_MAX_CHARS:,} characters;
- a video from a prompt: {limits.DURATION_MIN_S:g} to {limits.DURATION_MAX_S:g} s (`duration_s`, default
  {limits.DURATION_DEFAULT_S:g} s), and never longer than the plan allows;
- a photo upload: at most {limits.megabytes(settings.max_upload_bytes)} on this server (`MAX_UPLOAD_BYTES`) and
  {limits.PHOTO_MAX_PIXELS // 1_000_000} megapixels; any other request body: at most
  {limits.megabytes(settings.max_body_bytes)} (`MAX_BODY_BYTES`); {settings.rate_limit_per_minute} requests a
  minute per caller, an account or an address (`RATE_LIMIT_PER_MINUTE`).

| plan | credits a month | longest video | resolution | videos at once | live minutes a month | live sessions at once |
| --- | --- | --- | --- | --- | --- | --- |
{plans}

A credit buys a second of rendered video, a tenth of a live minute, or 1,000 characters of speech. Paid answers
carry `X-Credits-Charged` (what this request cost) and `X-Credits-Remaining` (the balance after it).
"""
