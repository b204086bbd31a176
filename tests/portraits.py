"""The two portraits the avatar tests (and the README's strips) use, both public domain and packaged.

- ``astronaut``: Eileen Collins, NASA's official portrait (public domain), shipped by scikit-image;
  she smiles, her lips parted over her teeth.
- ``hopper``: Commodore Grace M. Hopper, the U.S. Navy's official portrait of 1984 (a work of the U.S.
  federal government, so public domain), shipped by matplotlib as ``sample_data/grace_hopper.jpg``
  (matplotlib comes with mediapipe); an older face, glasses, lips closed, no smile.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from matplotlib import cbook
from skimage import data

from neura.avatar import load_image

RGB = npt.NDArray[np.uint8]


def astronaut() -> RGB:
    return np.ascontiguousarray(data.astronaut())


def hopper() -> RGB:
    return load_image(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))


PORTRAITS = {"astronaut": astronaut, "hopper": hopper}
