"""Avatars made from uploaded photos."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from neura.db.models import Avatar


class AvatarPublic(BaseModel):
    id: uuid.UUID
    name: str
    width: int  # of the uploaded photo
    height: int
    face_px: int  # face height in the photo, forehead to chin
    rig_sizes: list[int]  # sizes (px) the avatar is prepared for
    warnings: list[str]
    preview_url: str
    created_at: datetime

    @classmethod
    def from_row(cls, avatar: Avatar) -> AvatarPublic:
        return cls(
            id=avatar.id,
            name=avatar.name,
            width=avatar.width,
            height=avatar.height,
            face_px=avatar.face_px,
            rig_sizes=sorted(int(size) for size in avatar.rig_keys),
            warnings=[str(w) for w in avatar.warnings],
            preview_url=f"/v1/avatars/{avatar.id}/preview",
            created_at=avatar.created_at,
        )
