"""Real images (no downloads) and one rig shared by the avatar tests."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image
from skimage import data

from neura.avatar import AvatarRig, build_avatar

RGB = npt.NDArray[np.uint8]


def encode(rgb: RGB, fmt: str = "PNG", **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt, **params)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def astronaut() -> RGB:
    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def astronaut_rig(astronaut: RGB) -> AvatarRig:
    return build_avatar(astronaut, size_px=512)
