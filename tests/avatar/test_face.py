"""detect_faces on real photos: one face, none (a cat), two, too small; mediapipe stays quiet."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
from skimage import data

from neura.avatar import detect_faces
from neura.avatar import landmarks as lm
from neura.errors import FaceTooSmallError, NoFaceError

from .conftest import RGB


def test_astronaut_has_one_face_with_478_landmarks(astronaut: RGB) -> None:
    found = detect_faces(astronaut)
    assert found.landmarks.shape == (478, 2) and found.landmarks.dtype == np.float32
    assert found.n_faces == 1 and found.warnings == []
    assert 95 < found.height_px < 120  # her face is ~106 px tall in the 512 px photo
    x0, y0, x1, y1 = found.bbox
    assert 150 < x0 < x1 < 300 and 50 < y0 < y1 < 200
    assert 0.05 < lm.mouth_gap_ratio(found.landmarks) < 0.3  # she smiles with her teeth showing


def test_a_cat_has_no_face() -> None:
    with pytest.raises(NoFaceError, match=r"no face found in cat\.png: use a front-facing photo"):
        detect_faces(data.chelsea(), name="cat.png")


def test_two_faces_chooses_the_largest_and_warns(astronaut: RGB) -> None:
    crop = astronaut[30:250, 130:330]
    small = cv2.resize(crop, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    canvas = np.full((220, 360, 3), 200, np.uint8)
    canvas[:, :200] = crop
    canvas[30 : 30 + small.shape[0], 205 : 205 + small.shape[1]] = small
    found = detect_faces(canvas)
    assert found.n_faces == 2
    assert found.warnings == ["2 faces found; using the largest"]
    assert found.bbox[2] < 200  # the big face, on the left


def test_a_tiny_face_is_refused_with_its_size(astronaut: RGB) -> None:
    tiny = cv2.resize(astronaut, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    with pytest.raises(FaceTooSmallError, match=r"only \d+ px tall.*at least 80 px"):
        detect_faces(tiny)


def test_mediapipe_notes_do_not_reach_stderr() -> None:
    code = (
        "from skimage import data\n"
        "from neura.avatar import detect_faces\n"
        "detect_faces(data.astronaut())\n"
        "print('done')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "done"
    assert result.stderr.strip() == ""
