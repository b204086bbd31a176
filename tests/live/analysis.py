"""What the client's decoded video shows: mouth opening, eye opening and head position per frame,
from the face landmarker that NEURA uses on photos (mediapipe's face mesh)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neura.avatar import detect_faces
from neura.avatar.landmarks import eyes_aspect_ratio, mouth_gap_ratio
from neura.errors import ImageError
from tests.live.peer_client import VideoFrameInfo

NOSE_TIP = 1


@dataclass(frozen=True)
class FaceMeasure:
    arrival_s: float
    mouth: float  # inner-lip gap / mouth width: about 0 closed, 0.26 wide open
    eyes: float  # eye aspect ratio: about 0.28 open, 0.12 closed
    nose_x: float
    nose_y: float
    pts: int = 0  # the frame's RTP timestamp (90 kHz): when the server made it, on its media clock


def measure_faces(frames: list[VideoFrameInfo]) -> list[FaceMeasure]:
    """One measure per recorded frame (frames without an image or a face are skipped)."""
    out: list[FaceMeasure] = []
    for frame in frames:
        if frame.image is None:
            continue
        try:
            pts = detect_faces(frame.image, min_face_px=0).landmarks
        except ImageError:
            continue
        nose = pts[NOSE_TIP]
        out.append(
            FaceMeasure(
                frame.arrival_s,
                mouth_gap_ratio(pts),
                eyes_aspect_ratio(pts),
                float(nose[0]),
                float(nose[1]),
                frame.pts,
            )
        )
    return out


def first_open(measures: list[FaceMeasure], after_s: float, threshold: float) -> FaceMeasure | None:
    return next((m for m in measures if m.arrival_s > after_s and m.mouth > threshold), None)


def spread(values: list[float]) -> float:
    return float(np.max(values) - np.min(values)) if values else 0.0
