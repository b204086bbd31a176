"""Avatars made from uploaded photos."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from neura.db.models import Avatar


class FaceBox(BaseModel):
    x: float
    y: float
    width: float
    height: float


class AvatarPublic(BaseModel):
    id: uuid.UUID
    name: str
    width: int  # of the uploaded photo
    height: int
    face_px: int  # face height in the photo, forehead to chin
    rig_sizes: list[int]  # sizes (px) the avatar is prepared for
    warnings: list[str]
    preview_url: str
    face_box: FaceBox | None = Field(
        description="the face the avatar animates, in the preview image's pixels (its top-left corner is 0, 0); "
        "null for avatars made before NEURA reported it"
    )
    face_outline: list[tuple[float, float]] | None = Field(
        description="the face's outline in the preview's pixels: 36 points [x, y], clockwise from the top of the "
        "forehead along the cheek, jaw and chin; null as face_box"
    )
    faces_found: int | None = Field(description="faces seen in the photo (the largest is used); null as face_box")
    created_at: datetime

    @classmethod
    def from_row(cls, avatar: Avatar) -> AvatarPublic:
        face = avatar.face
        return cls(
            id=avatar.id,
            name=avatar.name,
            width=avatar.width,
            height=avatar.height,
            face_px=avatar.face_px,
            rig_sizes=sorted(int(size) for size in avatar.rig_keys),
            warnings=[str(w) for w in avatar.warnings],
            preview_url=f"/v1/avatars/{avatar.id}/preview",
            face_box=FaceBox(**dict(zip(("x", "y", "width", "height"), face["box"], strict=True))) if face else None,
            face_outline=[(x, y) for x, y in face["outline"]] if face else None,
            faces_found=face["faces_found"] if face else None,
            created_at=avatar.created_at,
        )
