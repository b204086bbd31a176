"""The avatar rig: a head-and-shoulders crop of one photo plus the warp basis that animates it.

Built once per uploaded photo (about half a second), saved as an ``.npz`` and loaded in milliseconds.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from neura.avatar import landmarks as lm
from neura.avatar.crop import crop_matrix, extract_crop, head_roi, shift_margin_px, tighten, trim
from neura.avatar.eye_basis import build_eye_basis, build_head_region
from neura.avatar.eyelids import measure_eyelids
from neura.avatar.face import detect_faces
from neura.avatar.geometry import Box, FaceFrame
from neura.avatar.mouth_basis import build_mouth_basis
from neura.avatar.mouth_interior import MouthPalette, measure_light
from neura.avatar.mouth_layers import build_mouth_layers
from neura.errors import ImageError

RIG_VERSION = 4
"""Bumped whenever what a rig holds or means changes. 3: the mouth interior as layers (teeth, gums,
tongue, cavity) and stronger lip rounding; 2 and older are refused by :meth:`AvatarRig.load` and rebuilt
from the photo (see :func:`neura.assets.avatars.load_stored_asset`)."""

F32 = npt.NDArray[np.float32]
RGB = npt.NDArray[np.uint8]


class RigLoadError(ValueError):
    """A saved rig is unreadable or from another version: rebuild it from the photo."""


@dataclass(eq=False)
class AvatarRig:
    """Everything the renderer needs to animate one photo. Coordinates are crop pixels (x, y)."""

    image: RGB  # (size_px, size_px, 3)
    landmarks: F32  # (478, 2) on ``image``
    size_px: int
    roi: Box  # x0, y0, x1, y1: outside it, rendered frames equal ``image`` exactly
    neutral_mouth_open_px: float  # inner-lip gap (13-14) in the photo, at rig scale
    mouth_box: Box
    mouth_fields: F32  # (7, h, w, 2): see mouth_basis.MOUTH_FIELDS
    open_gap_px: float  # lip gap at MouthPose.open == 1
    lip_points: F32  # (20, 2) inner-lip polygon in the photo
    lip_motion: F32  # (7, 20, 2) its forward motion per unit of each mouth field
    mouth_layers: npt.NDArray[np.uint8]  # (4, h, w, 4) RGBA: cavity, jaw, tongue tip, upper teeth
    mouth_layer_box: Box  # where mouth_layers lie in the rig's pixels (head at rest)
    mouth_layer_motion: F32  # (2, 2): the jaw's move per unit of opening, the tongue tip's at tongue 1
    eye_box: Box
    eye_fields: F32  # (1, h, w, 2): brow
    eyelid_points: F32  # (2, 2, 9, 2): subject's left / right eye, upper / lower lid contour
    eyelid_colours: F32  # (2, 2, 3): per eye, lid skin and lash line
    head_mask: F32  # (roi_h // 4, roi_w // 4)
    head_pivot: F32  # (2,)
    palette: F32  # (6, 3): see MouthPalette
    crop_matrix: npt.NDArray[np.float64]  # (2, 3): photo pixels -> rig pixels
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the arrays saved as float16 are held at that precision from the start, so a freshly built
        # rig renders exactly like the same rig saved and loaded again (renders are deterministic)
        for name in self._HALF:
            setattr(self, name, np.asarray(getattr(self, name), np.float16).astype(np.float32))

    @property
    def mouth_width_px(self) -> float:
        return lm.mouth_width_px(self.landmarks)

    @property
    def mouth_palette(self) -> MouthPalette:
        return MouthPalette.from_array(self.palette)

    # --- persistence
    _ARRAYS = (
        "image", "landmarks", "mouth_fields", "lip_points", "lip_motion", "mouth_layers", "mouth_layer_motion",
        "eye_fields", "eyelid_points", "eyelid_colours", "head_mask", "head_pivot", "palette", "crop_matrix",
    )  # fmt: skip
    _HALF = ("mouth_fields", "eye_fields", "head_mask")  # stored as float16 (0.02 px at 30 px)

    def save(self, path: str | Path | BinaryIO) -> None:
        """Write the rig as an uncompressed ``.npz`` (fast to load) to a path or a binary file."""
        arrays: dict[str, npt.NDArray[np.generic]] = {}
        for name in self._ARRAYS:
            value = getattr(self, name)
            arrays[name] = value.astype(np.float16) if name in self._HALF else value
        meta = {
            "version": RIG_VERSION,
            "size_px": self.size_px,
            "neutral_mouth_open_px": self.neutral_mouth_open_px,
            "open_gap_px": self.open_gap_px,
            "roi": list(self.roi),
            "mouth_box": list(self.mouth_box),
            "eye_box": list(self.eye_box),
            "mouth_layer_box": list(self.mouth_layer_box),
            "warnings": self.warnings,
        }
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        if isinstance(path, str | Path):
            with open(path, "wb") as fh:
                np.savez(fh, **arrays)
        else:
            np.savez(path, **arrays)

    @classmethod
    def load(cls, path: str | Path | BinaryIO) -> AvatarRig:
        """Read a rig written by :meth:`save`; :class:`RigLoadError` if unreadable or outdated."""
        source = Path(path) if isinstance(path, str) else path
        try:
            with np.load(source, allow_pickle=False) as data:
                meta = _parse_meta(bytes(data["meta"]))
                if meta.get("version") != RIG_VERSION:
                    raise RigLoadError(f"rig version {meta.get('version')}; this build reads {RIG_VERSION}")
                arrays = {
                    name: data[name].astype(np.float32) if name in cls._HALF else data[name] for name in cls._ARRAYS
                }
        except RigLoadError:
            raise
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise RigLoadError(f"cannot read the rig at {path}: {exc}") from exc
        rig = cls(
            size_px=int(meta["size_px"]),
            neutral_mouth_open_px=float(meta["neutral_mouth_open_px"]),
            open_gap_px=float(meta["open_gap_px"]),
            roi=_box(meta["roi"]),
            mouth_box=_box(meta["mouth_box"]),
            eye_box=_box(meta["eye_box"]),
            mouth_layer_box=_box(meta["mouth_layer_box"]),
            warnings=[str(w) for w in meta["warnings"]],
            **arrays,
        )
        x0, y0, x1, y1 = rig.roi
        if rig.image.shape != (rig.size_px, rig.size_px, 3) or rig.head_mask.shape != ((y1 - y0) // 4, (x1 - x0) // 4):
            raise RigLoadError(f"the rig at {path} is inconsistent (image {rig.image.shape}, roi {rig.roi})")
        return rig


def _box(values: Any) -> Box:
    x0, y0, x1, y1 = (int(v) for v in values)
    return x0, y0, x1, y1


def _parse_meta(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw.decode())
    if not isinstance(value, dict):
        raise RigLoadError("rig metadata is not a mapping")
    return value


def rig_cache_key(image_bytes: bytes, size_px: int) -> str:
    """A stable key for the rig built from these photo bytes at this size (and this rig version)."""
    digest = hashlib.sha256()
    digest.update(f"neura-rig-v{RIG_VERSION}-{size_px}:".encode())
    digest.update(image_bytes)
    return digest.hexdigest()[:40]


def build_avatar(rgb: RGB, *, size_px: int = 512, name: str = "the image") -> AvatarRig:
    """Crop a head-and-shoulders square around the largest face, resize it to ``size_px`` and build
    the warp basis. The rig depends only on the image and the size (the idle motion's seed lives in
    :class:`IdleMotion`), so it is cached by them."""
    if size_px < 128 or size_px % 4:
        raise ValueError(f"size_px must be a multiple of 4 and at least 128, got {size_px}")
    found = detect_faces(rgb, name=name)
    matrix = crop_matrix(found.landmarks, size_px, rgb.shape)
    image = extract_crop(rgb, matrix, size_px)
    notes = list(found.warnings)
    try:
        pts = detect_faces(image, name=name, min_face_px=0).landmarks
    except ImageError:
        pts = (found.landmarks @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)
        notes.append("landmarks on the crop came from the full photo")
    frame = FaceFrame.from_landmarks(pts)
    roi = head_roi(pts, frame, size_px)
    margin = shift_margin_px(size_px)
    inner = (roi[0] + margin, roi[1] + margin, roi[2] - margin, roi[3] - margin)
    mouth = build_mouth_basis(pts, frame, inner)
    mouth_fields, mouth_box = trim(mouth.fields, mouth.box)
    eyes = build_eye_basis(pts, frame, inner)
    eye_fields, eye_box = trim(eyes.fields, eyes.box)
    head = build_head_region(pts, frame, roi)
    roi, head_mask = tighten(roi, head.mask, [mouth_box, eye_box], margin)
    lids = measure_eyelids(image, pts)
    light = measure_light(image, pts)
    layers = build_mouth_layers(image, pts, frame, mouth.geometry, mouth.open_gap_px, light)
    return AvatarRig(
        image=image,
        landmarks=pts,
        size_px=size_px,
        roi=roi,
        neutral_mouth_open_px=lm.mouth_gap_px(pts),
        mouth_box=mouth_box,
        mouth_fields=mouth_fields,
        open_gap_px=mouth.open_gap_px,
        lip_points=mouth.lip_points,
        lip_motion=mouth.lip_motion,
        mouth_layers=layers.layers,
        mouth_layer_box=layers.box,
        mouth_layer_motion=layers.motion,
        eye_box=eye_box,
        eye_fields=eye_fields,
        eyelid_points=lids.points,
        eyelid_colours=lids.colours,
        head_mask=head_mask,
        head_pivot=head.pivot,
        palette=light.palette.as_array(),
        crop_matrix=matrix,
        warnings=notes,
    )


def save_bytes(rig: AvatarRig) -> bytes:
    """The rig as ``.npz`` bytes (for object storage); :meth:`AvatarRig.load` reads them back from a
    ``BytesIO``."""
    buffer = io.BytesIO()
    rig.save(buffer)
    return buffer.getvalue()
