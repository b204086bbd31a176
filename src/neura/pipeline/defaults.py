"""Embedded defaults: what ``neura render`` makes with no prompt, script or photo."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DEMO_SCRIPT = """# Meet NEURA

Hi, I am a NEURA avatar. I was made from a single photo, and rendered right here on this computer.

You give NEURA a prompt or a script. It writes the words, speaks them with its own voice, \
and moves my lips in time with every sound.

Everything you just saw was made offline, in well under a minute. Thanks for watching!
"""

DEMO_AVATAR_NAME = "astronaut (scikit-image, public domain)"


def demo_avatar() -> npt.NDArray[np.uint8]:
    """The public-domain portrait that ships inside scikit-image (Eileen Collins, NASA)."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())
