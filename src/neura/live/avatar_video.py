"""The avatar as a live frame source: mouth pose + idle motion at the frame's time -> a video frame.

Head motion, blinks and breathing are a function of the session clock (``IdleMotion.head_pose(t)``),
so frames are generated, never looped, and the head moves on smoothly into and out of speech: the
speaking level that livens it rises and falls through an envelope, never in a jump.
"""

from __future__ import annotations

import math

import av
import cv2
import numpy as np
import numpy.typing as npt

from neura.avatar import AvatarRig, IdleMotion
from neura.live.timeline import FPS
from neura.media import MouthPose
from neura.render import RenderBackend

ATTACK_S = 0.12
RELEASE_S = 0.5


class AvatarFrames:
    """A :class:`neura.live.tracks.FrameSource` over one rig, for one session's video track (which
    renders its frames one after another, so the speaking envelope needs no lock)."""

    def __init__(self, rig: AvatarRig, backend: RenderBackend, motion: IdleMotion) -> None:
        self.rig = rig
        self.backend = backend
        self.motion = motion
        self._speaking = 0.0
        self._up = 1.0 - math.exp(-1.0 / (ATTACK_S * FPS))
        self._down = 1.0 - math.exp(-1.0 / (RELEASE_S * FPS))

    def render(self, frame_index: int, mouth: npt.NDArray[np.float32]) -> av.VideoFrame:
        pose = MouthPose(*(float(v) for v in mouth))
        target = min(1.0, 4.0 * pose.open)
        self._speaking += (target - self._speaking) * (self._up if target > self._speaking else self._down)
        head = self.motion.head_pose(frame_index / FPS, speaking=self._speaking)
        rgb = self.backend.render(self.rig, pose, head)
        # I420 made here, on the render thread, so the encoder gets the format it wants. OpenCV's
        # BT.601 limited-range conversion (what WebRTC decoders assume) is 4x faster than swscale.
        i420 = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
        return av.VideoFrame.from_ndarray(i420, format="yuv420p")
