"""Avatars: an uploaded photo, validated and turned into rigs, stored under one prefix per avatar.

Layout (object storage)::

    users/<user id>/avatars/<avatar id>/original.<jpg|png|webp>   the photo as uploaded
    users/<user id>/avatars/<avatar id>/preview.jpg               the cropped portrait
    users/<user id>/avatars/<avatar id>/rig-512.npz, rig-640.npz  the renderer's assets per size

Assets are the renderer's (:meth:`neura.render.seam.Renderer.prepare`), named by its asset kind: the
CPU and torch warps share the ``rig`` (``AvatarRig.save()`` output), so switching between them needs no
new upload. Offline renders and live sessions load the stored asset instead of rebuilding it.

:func:`prepare_avatar` is blocking and CPU-heavy (decode, face mesh, two rig builds: about 2 s): run it
in a worker thread. Nothing is stored until it has succeeded, and :func:`store_avatar` removes what it
wrote if any write fails, so a failed upload leaves nothing behind.

Stored assets outlive the code that wrote them: :func:`load_stored_asset` reads one, and when it is
outdated (an older :data:`neura.avatar.rig.RIG_VERSION`) it rebuilds it from the stored original photo
and writes the new asset back in its place, so the next load is fast again.
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
from neura.errors import ImageError, NotFoundError, UnsupportedMediaTypeError
from neura.render.seam import Image as RGB
from neura.render.seam import RenderAsset, Renderer
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


def face_geometry(preview: RGB, faces_found: int) -> dict[str, Any]:
    """Where the face lies on the preview: its outline (mediapipe's face oval: 36 points clockwise from
    the top of the forehead, along the jaw) and the box around it, in pixels, rounded to 0.1 px and kept
    inside the image. JSON-ready: stored with the avatar."""
    size_px = int(preview.shape[0])
    landmarks = detect_faces(preview, name="the preview", min_face_px=0).landmarks
    outline = np.round(np.clip(landmarks[list(FACE_OVAL)].astype(np.float64), 0.0, float(size_px)), 1)
    (x0, y0), (x1, y1) = outline.min(axis=0), outline.max(axis=0)
    return {
        "image_px": size_px,
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
    asset_kind: str  # the renderer's (``rig`` for the CPU and torch warps)
    rigs: dict[int, bytes]  # size_px -> the asset's bytes (Renderer.dump_asset)
    face: dict[str, Any]  # face_geometry() of the preview
    warnings: list[str] = field(default_factory=list)


def prepare_avatar(data: bytes, *, max_bytes: int, renderer: Renderer) -> PreparedAvatar:
    """Decode and validate the photo and build the renderer's assets. Blocking: call from a worker thread.

    Raises UnsupportedMediaTypeError (not an image we take), ImageError (corrupt, truncated, too many
    pixels), NoFaceError or FaceTooSmallError."""
    kind = image_type(data)
    rgb = load_image(data, max_bytes=max_bytes, max_pixels=MAX_PIXELS)
    found = detect_faces(rgb, name="the photo")
    assets = {size: renderer.prepare(rgb, size_px=size, name="the photo") for size in RIG_SIZES_PX}
    preview = io.BytesIO()
    Image.fromarray(assets[PREVIEW_RIG_PX].image).save(preview, format="JPEG", quality=PREVIEW_JPEG_QUALITY)
    warnings = list(dict.fromkeys(found.warnings + assets[PREVIEW_RIG_PX].warnings))
    return PreparedAvatar(
        kind=kind,
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
        face_px=round(found.height_px),
        preview_jpeg=preview.getvalue(),
        asset_kind=renderer.asset_kind,
        rigs={size: renderer.dump_asset(asset) for size, asset in assets.items()},
        face=face_geometry(assets[PREVIEW_RIG_PX].image, found.n_faces),
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
        rig_keys={str(size): f"{prefix}{prepared.asset_kind}-{size}.npz" for size in prepared.rigs},
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


async def load_stored_asset(
    storage: Storage, key: str, size_px: int, renderer: Renderer, *, executor: Executor | None = None
) -> RenderAsset:
    """The renderer's asset stored at ``key``; one written by an older build is rebuilt from the
    avatar's original photo (beside it under the same prefix) and stored back. CPU work runs on
    ``executor``.

    Raises NotFoundError when the asset is missing, ImageError when it is outdated and the photo is gone."""
    loop = asyncio.get_running_loop()

    def run(work: Callable[[], T]) -> asyncio.Future[T]:
        return loop.run_in_executor(executor, work)

    data = await storage.get_bytes(key)
    try:
        return await run(lambda: renderer.load_asset(data))
    except ValueError as exc:  # outdated or unreadable (RigLoadError for a rig)
        log.info("rebuilding the stored asset %s from its photo: %s", key, exc)
    photo = await _original_photo(storage, key.rsplit("/", 1)[0] + "/")
    asset = await run(
        lambda: renderer.prepare(load_image(photo, max_pixels=MAX_PIXELS), size_px=size_px, name="the photo")
    )
    await storage.put_bytes(key, await run(lambda: renderer.dump_asset(asset)), "application/octet-stream")
    return asset


async def _original_photo(storage: Storage, prefix: str) -> bytes:
    for extension, _ in _TYPES.values():
        try:
            return await storage.get_bytes(f"{prefix}original.{extension}")
        except NotFoundError:
            continue
    raise ImageError("the avatar's stored asset is outdated and its photo is missing", hint="upload the photo again")
