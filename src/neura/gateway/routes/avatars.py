"""Avatars: upload a photo of a face; NEURA validates it and prepares it for rendering."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status
from sqlalchemy import select

from neura.assets.avatars import delete_avatar_objects, image_type, prepare_avatar, store_avatar
from neura.db.models import Avatar, User
from neura.errors import NotFoundError, PayloadTooLargeError
from neura.gateway.deps import CurrentUser, DbSession, State
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.avatars import AvatarPublic
from neura.gateway.schemas.pagination import Page, Paging
from neura.gateway.schemas.text import STORABLE
from neura.render.providers import create_renderer

router = APIRouter(prefix="/v1/avatars", tags=["avatars"], dependencies=[RateLimited])

NAME_MAX_CHARS = 200


def _display_name(name: str | None, filename: str | None) -> str:
    chosen = (name or "").strip() or PurePath(filename or "").stem.strip() or "avatar"
    return "".join(ch for ch in chosen if ch.isprintable())[:NAME_MAX_CHARS] or "avatar"


async def owned_avatar(session: DbSession, user: User, avatar_id: uuid.UUID) -> Avatar:
    """The user's avatar; NotFoundError for an unknown id and for someone else's avatar alike."""
    avatar = await session.scalar(select(Avatar).where(Avatar.id == avatar_id, Avatar.user_id == user.id))
    if avatar is None:
        raise NotFoundError("avatar not found")
    return avatar


@router.post(
    "",
    operation_id="createAvatar",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a photo (JPEG, PNG or WebP, one clearly visible face) and make an avatar of it",
    responses={
        413: {"description": "the file is larger than MAX_UPLOAD_BYTES"},
        415: {"description": "not a JPEG, PNG or WebP image (judged from the bytes, not the name)"},
        422: {"description": "corrupt, truncated or oversized image; no face; face too small"},
    },
)
async def create_avatar(
    file: Annotated[UploadFile, File(description="the photo")],
    user: CurrentUser,
    session: DbSession,
    state: State,
    name: Annotated[str | None, Form(max_length=NAME_MAX_CHARS), STORABLE] = None,
) -> AvatarPublic:
    limit = state.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"the photo is larger than {limit} bytes", hint="upload a smaller photo")
    image_type(data)  # 415 before any heavy work
    renderer = create_renderer(state.settings)  # its assets are stored: offline and live renders reuse them
    prepared = await asyncio.to_thread(prepare_avatar, data, max_bytes=limit, renderer=renderer)
    avatar_id = uuid.uuid4()
    stored = await store_avatar(state.storage, user.id, avatar_id, data, prepared)
    avatar = Avatar(
        id=avatar_id,
        user_id=user.id,
        name=_display_name(name, file.filename),
        image_key=stored.image_key,
        preview_key=stored.preview_key,
        rig_keys=stored.rig_keys,
        width=prepared.width,
        height=prepared.height,
        face_px=prepared.face_px,
        face=prepared.face,
        warnings=prepared.warnings,
    )
    session.add(avatar)
    try:
        await session.flush()
        await session.refresh(avatar)
    except BaseException:
        await delete_avatar_objects(state.storage, user.id, avatar_id)
        raise
    return AvatarPublic.from_row(avatar)


@router.get("", operation_id="listAvatars", summary="Your avatars, newest first")
async def list_avatars(user: CurrentUser, session: DbSession, paging: Paging) -> Page[AvatarPublic]:
    rows = await session.scalars(
        select(Avatar)
        .where(Avatar.user_id == user.id)
        .order_by(Avatar.created_at.desc(), Avatar.id)
        .limit(paging.fetch)
        .offset(paging.offset)
    )
    return Page[AvatarPublic].of([AvatarPublic.from_row(row) for row in rows], paging)


@router.get("/{avatar_id}", operation_id="getAvatar", summary="One of your avatars")
async def get_avatar(avatar_id: uuid.UUID, user: CurrentUser, session: DbSession) -> AvatarPublic:
    return AvatarPublic.from_row(await owned_avatar(session, user, avatar_id))


@router.get(
    "/{avatar_id}/preview",
    operation_id="getAvatarPreview",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the cropped portrait"}},
    summary="The avatar's cropped portrait (JPEG)",
)
async def get_avatar_preview(avatar_id: uuid.UUID, user: CurrentUser, session: DbSession, state: State) -> Response:
    avatar = await owned_avatar(session, user, avatar_id)
    data = await state.storage.get_bytes(avatar.preview_key)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.delete(
    "/{avatar_id}",
    operation_id="deleteAvatar",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an avatar and its files",
)
async def delete_avatar(avatar_id: uuid.UUID, user: CurrentUser, session: DbSession, state: State) -> None:
    avatar = await owned_avatar(session, user, avatar_id)
    await session.delete(avatar)
    await session.flush()
    await delete_avatar_objects(state.storage, user.id, avatar_id)
