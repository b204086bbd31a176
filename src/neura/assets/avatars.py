"""Avatars: an uploaded photo, validated and turned into rigs, stored under one prefix per avatar.

Layout (object storage)::

    users/<user id>/avatars/<avatar id>/original.<jpg|png|webp>   the photo as uploaded
    users/<user id>/avatars/<avatar id>/preview.jpg               the cropped portrait
    users/<user id>/avatars/<avatar id>/rig-512.npz, rig-640.npz  AvatarRig.save() output per size

:func:`prepare_avatar` is blocking and CPU-heavy (decode, face mesh, two rig builds: about 2 s): run it
in a worker thread. Nothing is stored until it has succeeded, and :func:`store_avatar` removes what it
wrote if any write fails, so a failed upload leaves nothing behind.

Stored rigs outlive the code that wrote them: :func:`load_stored_rig` reads one, and when it is from an
older rig version (:data:`neura.avatar.rig.RIG_VERSION`) it rebuilds it from the stored original photo
and writes the new rig back in its place, so the next load is fast again.
"""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from neura.avatar.face import detect_faces
from neura.avatar.image import load_image, sniff_image_type
from neura.avatar.landmarks import FACE_OVAL
from neura.avatar.rig import AvatarRig, RigLoadError, build_avatar, save_bytes
from neura.errors import ImageError, NotFoundError, UnsupportedMediaTypeError
from neura.storage import Storage

log = logging.getLogger(__name__)
T = TypeVar("T")

RIG_SIZES_PX = (512, 640)
PREVIEW_RIG_PX = 512
PREVIEW_JPEG_QUALITY = 90
MAX_PIXELS = 40_000_000  # decompression bombs are refused from the header, before decoding

_TYPES = {"jpeg": ("jpg", "image/jpeg"), "png": ("png", "image/png"), "webp": ("webp", "image/webp")}


def avatar_prefix(user_id: uuid.UUID, avatar_id: uuid.UUID) -> str:
    return f"users/{user_id}/avatars/{avatar_id}/"


def image_type(data: bytes) -> str:
    """``jpeg``, ``png`` or ``webp``, from the bytes (never the file name); 415 for anything else."""
    kind = sniff_image_type(data[:16])
    if kind not in _TYPES:
        raise UnsupportedMediaTypeError(
            "the upload is not a JPEG, PNG or WebP image", hint="upload a JPEG, PNG or WebP photo of one face"
        )
    return kind


def face_geometry(rig: AvatarRig, faces_found: int) -> dict[str, Any]:
    """Where the rig's face lies on its image (the preview): its outline (mediapipe's face oval: 36
    points clockwise from the top of the forehead, along the jaw) and the box around it, in pixels,
    rounded to 0.1 px and kept inside the image. JSON-ready: stored with the avatar."""
    outline = np.round(np.clip(rig.landmarks[list(FACE_OVAL)].astype(np.float64), 0.0, float(rig.size_px)), 1)
    (x0, y0), (x1, y1) = outline.min(axis=0), outline.max(axis=0)
    return {
        "image_px": rig.size_px,
        "box": [round(float(v), 1) for v in (x0, y0, x1 - x0, y1 - y0)],
        "outline": outline.tolist(),
        "faces_found": faces_found,
    }


@dataclass(frozen=True)
class PreparedAvatar:
    kind: str  # jpeg | png | webp
    width: int
    height: int
    face_px: int  # face height in the photo, forehead to chin
    preview_jpeg: bytes
    rigs: dict[int, bytes]  # size_px -> AvatarRig .npz bytes
    face: dict[str, Any]  # face_geometry() of the preview
    warnings: list[str] = field(default_factory=list)


def prepare_avatar(data: bytes, *, max_bytes: int) -> PreparedAvatar:
    """Decode and validate the photo and build its rigs. Blocking: call from a worker thread.

    Raises UnsupportedMediaTypeError (not an image we take), ImageError (corrupt, truncated, too many
    pixels), NoFaceError or FaceTooSmallError."""
    kind = image_type(data)
    rgb = load_image(data, max_bytes=max_bytes, max_pixels=MAX_PIXELS)
    found = detect_faces(rgb, name="the photo")
    rigs = {size: build_avatar(rgb, size_px=size, name="the photo") for size in RIG_SIZES_PX}
    preview = io.BytesIO()
    Image.fromarray(rigs[PREVIEW_RIG_PX].image).save(preview, format="JPEG", quality=PREVIEW_JPEG_QUALITY)
    warnings = list(dict.fromkeys(found.warnings + rigs[PREVIEW_RIG_PX].warnings))
    return PreparedAvatar(
        kind=kind,
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
        face_px=round(found.height_px),
        preview_jpeg=preview.getvalue(),
        rigs={size: save_bytes(rig) for size, rig in rigs.items()},
        face=face_geometry(rigs[PREVIEW_RIG_PX], found.n_faces),
        warnings=warnings,
    )


@dataclass(frozen=True)
class StoredAvatar:
    image_key: str
    preview_key: str
    rig_keys: dict[str, str]  # str(size_px) -> key (JSON object keys are strings)


async def store_avatar(
    storage: Storage, user_id: uuid.UUID, avatar_id: uuid.UUID, original: bytes, prepared: PreparedAvatar
) -> StoredAvatar:
    """Write the photo, the preview and the rigs; on any failure remove what was written and re-raise."""
    prefix = avatar_prefix(user_id, avatar_id)
    extension, content_type = _TYPES[prepared.kind]
    stored = StoredAvatar(
        image_key=f"{prefix}original.{extension}",
        preview_key=f"{prefix}preview.jpg",
        rig_keys={str(size): f"{prefix}rig-{size}.npz" for size in prepared.rigs},
    )
    try:
        await storage.put_bytes(stored.image_key, original, content_type)
        await storage.put_bytes(stored.preview_key, prepared.preview_jpeg, "image/jpeg")
        for size, rig in prepared.rigs.items():
            await storage.put_bytes(stored.rig_keys[str(size)], rig, "application/octet-stream")
    except BaseException:
        await delete_avatar_objects(storage, user_id, avatar_id)
        raise
    return stored


async def delete_avatar_objects(storage: Storage, user_id: uuid.UUID, avatar_id: uuid.UUID) -> int:
    return await storage.delete_prefix(avatar_prefix(user_id, avatar_id))


async def load_stored_rig(
    storage: Storage, rig_key: str, size_px: int, *, executor: Executor | None = None
) -> AvatarRig:
    """The rig stored at ``rig_key``; one written by an older build is rebuilt from the avatar's
    original photo (beside it under the same prefix) and stored back. CPU work runs on ``executor``.

    Raises NotFoundError when the rig is missing, ImageError when it is outdated and the photo is gone."""
    loop = asyncio.get_running_loop()

    def run(work: Callable[[], T]) -> asyncio.Future[T]:
        return loop.run_in_executor(executor, work)

    data = await storage.get_bytes(rig_key)
    try:
        return await run(lambda: AvatarRig.load(io.BytesIO(data)))
    except RigLoadError as exc:
        log.info("rebuilding the stored rig %s from its photo: %s", rig_key, exc)
    photo = await _original_photo(storage, rig_key.rsplit("/", 1)[0] + "/")
    rig = await run(lambda: build_avatar(load_image(photo, max_pixels=MAX_PIXELS), size_px=size_px, name="the photo"))
    await storage.put_bytes(rig_key, await run(lambda: save_bytes(rig)), "application/octet-stream")
    return rig


async def _original_photo(storage: Storage, prefix: str) -> bytes:
    for extension, _ in _TYPES.values():
        try:
            return await storage.get_bytes(f"{prefix}original.{extension}")
        except NotFoundError:
            continue
    raise ImageError("the avatar's stored rig is outdated and its photo is missing", hint="upload the photo again")
