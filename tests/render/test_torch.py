"""The torch renderer against the CPU warp it ports, and its batching across streams (CPU torch here;
the same code runs on CUDA). Skipped where torch is not installed (``pip install 'neura[gpu]'``).

Tolerance: the frames are the CPU renderer's within 4 levels anywhere, 1 level at the 99.9th percentile
and 0.1 level on average (RGB and I420 alike). The differences come from OpenCV's fixed-point remap
weights (1/32 pixel) and from the CPU path rounding to whole levels between its drawing steps.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from neura.avatar import AvatarRig, build_avatar
from neura.errors import EngineUnavailableError
from neura.media import HeadPose, MouthPose
from neura.render import CpuBackend
from neura.render.providers import RENDERERS
from neura.render.seam import FrameFormat
from tests.portraits import hopper

torch = pytest.importorskip("torch")

from neura.render.torch_renderer import TorchRenderer  # noqa: E402  (needs torch)

POSES = [
    (MouthPose(), HeadPose()),
    (MouthPose(open=0.8, spread=0.2, tongue=0.6), HeadPose(dx_px=3, dy_px=-2, roll_deg=1.5, brow=0.5)),
    (MouthPose(open=0.4, round=0.9), HeadPose(dx_px=-4, roll_deg=-2.0, scale=1.01, blink_left=0.7, blink_right=1.0)),
    (MouthPose(close=1.0, spread=0.4), HeadPose(dy_px=3, blink_left=0.3, blink_right=0.3)),
]


def _i420(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), np.uint8)


@pytest.mark.parametrize("output", ["rgb", "i420"])
def test_frames_equal_the_cpu_warps_within_the_stated_tolerance(rig: AvatarRig, output: FrameFormat) -> None:
    cpu = [CpuBackend().render(rig, mouth, head) for mouth, head in POSES]
    expected = cpu if output == "rgb" else [_i420(frame) for frame in cpu]
    got = TorchRenderer("cpu").render_frames([(rig, m, h) for m, h in POSES], output)
    for want, frame in zip(expected, got, strict=True):
        assert frame.shape == want.shape and frame.dtype == np.uint8
        diff = np.abs(frame.astype(np.int16) - want)
        assert diff.max() <= 4 and np.percentile(diff, 99.9) <= 1 and diff.mean() <= 0.1
    # and the poses show: an open mouth and a closed eye are not the rest pose
    assert np.abs(got[1].astype(np.int16) - got[0]).max() > 50


def test_one_pass_renders_the_next_frames_of_every_stream_that_asks(rig: AvatarRig) -> None:
    renderer = TorchRenderer("cpu", gather_s=0.5)  # a wide window, so both threads' requests surely meet
    other = build_avatar(hopper(), size_px=rig.size_px)
    streams = [renderer.stream(r, seed=i, output="i420", batch_frames=1) for i, r in enumerate((rig, other))]
    results: dict[int, Any] = {}

    def read(i: int) -> None:
        results[i] = streams[i].render_next()[0].image.copy()

    threads = [threading.Thread(target=read, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert renderer.batcher.passes == [(2, 2)]  # two sessions, one pass
    alone = [
        TorchRenderer("cpu", gather_s=0).stream(r, seed=i, output="i420", batch_frames=1)
        for i, r in enumerate((rig, other))
    ]
    for i, stream in enumerate(alone):
        assert np.array_equal(stream.render_next()[0].image, results[i])


def test_a_cuda_device_that_is_not_there_is_refused_with_a_hint() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(EngineUnavailableError, match="no CUDA device"):
        RENDERERS.create("torch", "cuda")
