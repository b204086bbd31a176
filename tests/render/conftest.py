"""One rig (the astronaut portrait at 512 px) and a CPU backend shared by the render tests."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from skimage import data

from neura.avatar import AvatarRig, build_avatar, detect_faces
from neura.render import CpuBackend

RGB = npt.NDArray[np.uint8]


@pytest.fixture(scope="session")
def rig() -> AvatarRig:
    return build_avatar(np.ascontiguousarray(data.astronaut()), size_px=512)


@pytest.fixture(scope="session")
def backend() -> CpuBackend:
    return CpuBackend()


def landmarks_of(frame: RGB) -> npt.NDArray[np.float32]:
    """Mediapipe's landmarks on a rendered frame (fails the test if the face is lost)."""
    return detect_faces(frame, min_face_px=0).landmarks
