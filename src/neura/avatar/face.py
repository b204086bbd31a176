"""Face detection and the 478-point face mesh (mediapipe), with mediapipe's log noise kept quiet.

mediapipe is imported lazily (it takes about a second) and its graphs are created once per process and
shared under a lock: they are not thread-safe. Their native start-up notes go to file descriptor 2, so
that descriptor points at /dev/null while each graph is created and first run (about 0.1 s, once).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from neura.errors import FaceTooSmallError, ImageError, NoFaceError

MIN_FACE_HEIGHT_PX = 80
"""Smallest face (forehead to chin, in the photo's pixels) that animates acceptably."""

_MAX_DETECT_SIDE_PX = 1600  # larger photos are downscaled for the search (the mesh model is 192 px anyway)

Points = npt.NDArray[np.float32]


@dataclass
class FaceDetection:
    """The chosen (largest) face: 478 mesh landmarks in image pixels, x then y."""

    landmarks: Points
    bbox: tuple[float, float, float, float]  # x0, y0, x1, y1 of the landmarks
    n_faces: int
    warnings: list[str] = field(default_factory=list)

    @property
    def height_px(self) -> float:
        """Face height from the top of the forehead (landmark 10) to the chin (landmark 152)."""
        return float(np.linalg.norm(self.landmarks[10] - self.landmarks[152]))


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence native (C++) writes to stderr, where TF Lite and absl print their start-up notes."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreter): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _Models:
    """Process-wide mediapipe graphs. The first call of each graph prints native warnings: muted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._mesh: Any = None
        self._detector: Any = None

    @staticmethod
    def _import() -> Any:
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            with _quiet_stderr():
                import mediapipe as mp
                from absl import logging as absl_logging

                absl_logging.set_verbosity(absl_logging.ERROR)
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ImageError("face detection is unavailable: mediapipe is not installed") from exc
        return mp

    def mesh(self, rgb: npt.NDArray[np.uint8]) -> list[Points]:
        """All faces the mesh graph finds: (478, 2) float32 pixel landmarks each. Caller holds the lock."""
        if self._mesh is None:
            mp = self._import()
            with _quiet_stderr():
                self._mesh = mp.solutions.face_mesh.FaceMesh(
                    static_image_mode=True, max_num_faces=5, refine_landmarks=True
                )
                result = self._mesh.process(rgb)
        else:
            result = self._mesh.process(rgb)
        h, w = rgb.shape[:2]
        faces = []
        for face in result.multi_face_landmarks or []:
            pts = np.array([(p.x * w, p.y * h) for p in face.landmark], dtype=np.float32)
            faces.append(pts)
        return faces

    def detect(self, rgb: npt.NDArray[np.uint8]) -> list[tuple[float, float, float, float]]:
        """Face boxes (x0, y0, x1, y1 px) from the full-range detector, for faces small in the frame."""
        if self._detector is None:
            mp = self._import()
            with _quiet_stderr():
                self._detector = mp.solutions.face_detection.FaceDetection(
                    model_selection=1, min_detection_confidence=0.6
                )
                result = self._detector.process(rgb)
        else:
            result = self._detector.process(rgb)
        h, w = rgb.shape[:2]
        boxes = []
        for det in result.detections or []:
            b = det.location_data.relative_bounding_box
            boxes.append((b.xmin * w, b.ymin * h, (b.xmin + b.width) * w, (b.ymin + b.height) * h))
        return boxes


_MODELS = _Models()


def _mesh_in_box(rgb: npt.NDArray[np.uint8], box: tuple[float, float, float, float]) -> Points | None:
    """Run the mesh on a square crop around ``box`` (upscaled if small); landmarks in ``rgb`` pixels."""
    x0, y0, x1, y1 = box
    side = 2.4 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    scale = 384.0 / side
    m = np.array([[scale, 0, 192 - scale * cx], [0, scale, 192 - scale * cy]], dtype=np.float64)
    crop = cv2.warpAffine(rgb, m, (384, 384), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    faces = _MODELS.mesh(np.ascontiguousarray(crop))
    if not faces:
        return None
    pts = faces[0]
    return ((pts - m[:, 2].astype(np.float32)) / np.float32(scale)).astype(np.float32)


def _bbox(pts: Points) -> tuple[float, float, float, float]:
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _area(pts: Points) -> float:
    x0, y0, x1, y1 = _bbox(pts)
    return (x1 - x0) * (y1 - y0)


def _turn_warning(pts: Points) -> str | None:
    """A warning when the head is turned well away from the camera (nose far off the face's middle)."""
    left, right, nose = pts[234], pts[454], pts[1]
    width = float(np.linalg.norm(right - left))
    if width < 1:
        return None
    offset = float(np.dot(nose - (left + right) / 2, (right - left) / width)) / width
    if abs(offset) > 0.18:
        return "the face is turned away from the camera; a front-facing photo animates best"
    return None


def detect_faces(
    rgb: npt.NDArray[np.uint8], *, name: str = "the image", min_face_px: int = MIN_FACE_HEIGHT_PX
) -> FaceDetection:
    """Find faces in an RGB photo and return the largest one's 478 landmarks.

    Raises :class:`NoFaceError` when no human face is found and :class:`FaceTooSmallError` when the
    chosen face is under ``min_face_px`` tall (forehead to chin).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ImageError(f"expected an RGB uint8 image, got shape {rgb.shape} dtype {rgb.dtype}")
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    scale = min(1.0, _MAX_DETECT_SIDE_PX / max(h, w))
    small = rgb
    if scale < 1.0:
        small = np.asarray(cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    with _MODELS.lock:
        faces = [pts / np.float32(scale) for pts in _MODELS.mesh(small)]
        boxes = _MODELS.detect(small)  # the mesh's own detector only sees faces that fill much of the frame
        if not faces:
            for bx0, by0, bx1, by1 in boxes:
                pts = _mesh_in_box(rgb, (bx0 / scale, by0 / scale, bx1 / scale, by1 / scale))
                if pts is not None:
                    faces.append(pts)
    if not faces:
        raise NoFaceError(
            f"no face found in {name}: use a front-facing photo with one clearly visible face",
            hint="the face should be well lit, unobstructed and at least 80 px tall",
        )
    faces.sort(key=_area, reverse=True)
    chosen = faces[0].astype(np.float32)
    notes = []
    found = max(len(faces), len(boxes))  # a group photo: the mesh may see only the largest face
    if found > 1:
        notes.append(f"{found} faces found; using the largest")
    turned = _turn_warning(chosen)
    if turned:
        notes.append(turned)
    detection = FaceDetection(chosen, _bbox(chosen), found, notes)
    if detection.height_px < min_face_px:
        raise FaceTooSmallError(
            f"the face in {name} is only {detection.height_px:.0f} px tall (forehead to chin); "
            f"at least {min_face_px} px is needed",
            hint="use a closer or higher-resolution photo",
        )
    return detection
