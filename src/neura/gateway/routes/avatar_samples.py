"""``GET /v1/avatars/{id}/sample``: a short video of the avatar speaking, rendered once and kept.

The render runs where avatars are prepared today, in a worker thread of the API process
(:func:`neura.assets.samples.render_avatar_sample`, the one function to move when rendering leaves
it); a Redis lock makes sure it never runs twice at once for the same avatar, in any process: a
second request waits and is answered from storage. No database connection is held meanwhile.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from neura.assets.avatars import stored_asset
from neura.assets.samples import AVATAR_SAMPLE_PX, avatar_sample_key, render_avatar_sample
from neura.db.models import Avatar, User
from neura.errors import NotFoundError
from neura.gateway.deps import SpeechUser, State
from neura.gateway.ranges import object_response
from neura.gateway.ratelimit import RateLimited
from neura.gateway.routes.avatars import owned_avatar
from neura.gateway.schemas.text import STORABLE
from neura.gateway.single_flight import one_at_a_time
from neura.gateway.speech import check_voice
from neura.gateway.state import AppState
from neura.render.providers import create_renderer
from neura.storage import exists
from neura.tts import VoiceRef

RENDER_LOCK_TTL_S = 300.0  # longer than any sample render; a crashed holder blocks no longer than this
RENDER_WAIT_S = 120.0  # a second request waits this long for the first one's render, then 503

router = APIRouter(prefix="/v1/avatars", tags=["avatars"], dependencies=[RateLimited])


async def _avatar(state: AppState, user: User, avatar_id: uuid.UUID) -> Avatar:
    async with state.sessions() as session, session.begin():
        return await owned_avatar(session, user, avatar_id)


async def make_avatar_sample(state: AppState, avatar: Avatar, voice: VoiceRef, key: str) -> None:
    """Render the sample into ``key`` unless it is there (or another request is making it)."""
    async with one_at_a_time(state.redis, f"avatar-sample:{key}", ttl_s=RENDER_LOCK_TTL_S, wait_s=RENDER_WAIT_S):
        if await exists(state.storage, key):
            return
        renderer = create_renderer(state.settings)
        asset = await stored_asset(state.storage, avatar.rig_keys or {}, AVATAR_SAMPLE_PX, renderer)
        photo = None if asset is not None else await state.storage.get_bytes(avatar.image_key)
        video = await asyncio.to_thread(render_avatar_sample, photo, state.settings, voice, asset=asset)
        await state.storage.put_bytes(key, video, "video/mp4")
    async with state.sessions() as session:
        if await session.get(Avatar, avatar.id) is None:  # deleted while it rendered: leave nothing behind
            await state.storage.delete(key)
            raise NotFoundError("avatar not found")


@router.get(
    "/{avatar_id}/sample",
    operation_id="getAvatarSample",
    response_class=StreamingResponse,
    summary="A short video of the avatar saying hello (MP4, 512x512), rendered once; no credits",
    responses={
        200: {"content": {"video/mp4": {}}, "description": "the whole video"},
        206: {"content": {"video/mp4": {}}, "description": "the requested byte range"},
        416: {"description": "the range lies outside the file"},
        503: {"description": "the voice's engine is not installed here, or the first render is still running"},
    },
)
async def get_avatar_sample(
    avatar_id: uuid.UUID,
    user: SpeechUser,
    state: State,
    range_header: Annotated[str | None, Header(alias="Range", max_length=200), STORABLE] = None,
) -> StreamingResponse:
    """About 2.5 seconds at 512x512, with sound: the avatar blinks and says "Hello, nice to meet you!"
    in this server's default voice, rendered by the same pipeline as its videos. The first request
    renders it (a few seconds; concurrent requests wait for that render), later ones get the stored
    file at once. Range requests are answered (206), so a `<video>` element can play and seek it."""
    avatar = await _avatar(state, user, avatar_id)
    voice = check_voice(state.settings, None)  # this server's default voice; 503 when not installed
    key = avatar_sample_key(user.id, avatar.id, voice)
    if not await exists(state.storage, key):
        await make_avatar_sample(state, avatar, voice, key)
    headers = {"Cache-Control": "private, max-age=3600", "Content-Disposition": 'inline; filename="sample.mp4"'}
    return await object_response(state.storage, key, range_header, headers)
