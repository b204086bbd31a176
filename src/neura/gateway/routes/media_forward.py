"""The ``api`` role's media routes: speech, avatars and live sessions are forwarded to media processes.

An API process loads no engine. What needs one (``/v1/tts``, ``/v1/audio/...``, ``/v1/align``,
``/v1/avatars``, ``/v1/voices``, ``/v1/live/...``) goes to a media process found in Redis: a live
session's requests to the process that owns it (the live registry), a new live session to the one
with the most room, anything else to the least loaded media process that advertises itself
(:mod:`neura.cluster.capabilities`). A process that refuses the connection (it is stopping) is skipped
for the next one; none left is ``503 no_capacity`` with ``Retry-After``.

These routes are not in this process's OpenAPI document: the media process documents them.
"""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Request, Response, WebSocket

from neura.errors import NoCapacityError
from neura.gateway.state import AppState

router = APIRouter(include_in_schema=False)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
MEDIA_PREFIXES = ("/v1/tts", "/v1/audio", "/v1/align", "/v1/avatars", "/v1/voices", "/v1/live")
_SESSION_PATH = re.compile(r"^/v1/live/sessions/([0-9a-fA-F-]{36})")
_NEW_SESSION_PATHS = ("/v1/live/sessions", "/v1/live/whep")


def _no_capacity(state: AppState, what: str) -> NoCapacityError:
    return NoCapacityError(
        f"no media process can take {what} right now",
        retry_after_s=state.settings.no_capacity_retry_after_s,
        hint="retry shortly (GET /v1/capabilities shows what the cluster can do)",
    )


async def _targets(state: AppState, path: str, method: str) -> list[str]:
    """Where this request may go, best first."""
    live = state.live_registry
    match = _SESSION_PATH.match(path)
    if match is not None and live is not None:
        owner = await live.owner(uuid.UUID(match.group(1)))
        if owner is not None:
            return [owner.url]  # only its owner runs it; another media process answers from the database
    if path in _NEW_SESSION_PATHS and method == "POST" and live is not None:
        return [instance.url for instance in await live.instances() if instance.free > 0]
    return [member.url for member in await state.capabilities.ready("media") if member.url]


async def _forward_to_media(request: Request) -> Response:
    from neura.gateway.proxy import UpstreamUnreachableError, forward  # httpx: imported on first use

    state: AppState = request.app.state.neura
    path = request.url.path
    for url in await _targets(state, path, request.method):
        try:
            return await forward(request, url, via=state.instance_id, secret=state.settings.secret_key)
        except UpstreamUnreachableError:
            continue  # it stopped taking connections: the request never began there
    raise _no_capacity(state, "a live session" if path.startswith("/v1/live") else "this request")


for _prefix in MEDIA_PREFIXES:
    router.add_api_route(_prefix, _forward_to_media, methods=METHODS)
    router.add_api_route(_prefix + "/{rest:path}", _forward_to_media, methods=METHODS)


@router.websocket("/v1/tts/stream")
async def tts_stream(websocket: WebSocket) -> None:
    from neura.gateway.proxy import forward_websocket

    state: AppState = websocket.app.state.neura
    members = await state.capabilities.ready("media")
    if not members:
        await websocket.close(code=4503, reason="no media process can take this stream right now")
        return
    await forward_websocket(websocket, members[0].url, via=state.instance_id, secret=state.settings.secret_key)
