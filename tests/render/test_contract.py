"""The renderer contract: every backend in the table (and the tests' fake) passes the same checks.

Speech of a known length gives exactly its frames, stamped in order; clearing the buffer mid-speech
closes the mouth within two frames; between speech the stream keeps rendering idle frames that move;
nothing outside the asset's ROI ever changes; an asset survives its bytes.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from skimage import data

from neura.media import MOUTH_CHANNELS
from neura.render.providers import RENDERERS
from neura.render.seam import CLOSE_FRAMES, RenderAsset, Renderer, SpeechTrack
from tests.fakes.renderer import FakeRenderer

SIZE_PX = 256
_ASSETS: dict[str, RenderAsset] = {}


def _renderer(name: str) -> Renderer:
    if name == "fake":
        return FakeRenderer()
    if name == "torch":
        pytest.importorskip("torch", reason="torch is not installed (pip install 'neura[gpu]')")
    return RENDERERS.create(name, "cpu")


@pytest.fixture(params=[*RENDERERS.names(), "fake"])
def renderer(request: pytest.FixtureRequest) -> Renderer:
    return _renderer(request.param)


@pytest.fixture
def asset(renderer: Renderer) -> RenderAsset:
    """One asset per asset kind (backends of a kind share it, as they share stored assets)."""
    if renderer.asset_kind not in _ASSETS:
        _ASSETS[renderer.asset_kind] = renderer.prepare(np.ascontiguousarray(data.astronaut()), size_px=SIZE_PX)
    return _ASSETS[renderer.asset_kind]


def speech(n_frames: int, opening: float = 0.8, fps: int = 25, rate_hz: int = 16_000) -> SpeechTrack:
    mouth = np.zeros((n_frames, MOUTH_CHANNELS), np.float32)
    mouth[:, 0] = opening
    mouth[:, 1] = 0.3
    return SpeechTrack(np.full(n_frames * rate_hz // fps, 0.1, np.float32), rate_hz, mouth)


def outside(roi: tuple[int, int, int, int], size: int) -> np.ndarray:
    x0, y0, x1, y1 = roi
    mask = np.ones((size, size), bool)
    mask[y0:y1, x0:x1] = False
    return mask


def test_speech_gives_its_frames_in_order_then_idle_frames(renderer: Renderer, asset: RenderAsset) -> None:
    stream = renderer.stream(asset, fps=25, seed=3, batch_frames=4)
    assert stream.push_speech(speech(10)) == 0
    frames = [f for _ in range(4) for f in stream.render_next()]
    assert [f.pts for f in frames] == list(range(16))
    assert all(f.image.shape == (SIZE_PX, SIZE_PX, 3) and f.image.dtype == np.uint8 for f in frames)
    assert [round(float(f.mouth[0]), 2) for f in frames] == [0.8] * 10 + [0.0] * 6
    # the picture follows the pose: an open mouth is not the closed one
    x0, y0, x1, y1 = asset.roi
    roi_of = [f.image[y0:y1, x0:x1].astype(np.int16) for f in frames]
    assert np.abs(roi_of[5] - roi_of[15]).mean() > 0.5
    # speech queued behind speech starts where the first ends; frames already made are never changed
    assert stream.push_speech(speech(3)) == 16
    assert stream.push_speech(speech(2), start_pts=0) == 16 + 0  # replaces what was queued from there
    assert stream.queued_end_pts() == 18


def test_clear_mid_speech_closes_the_mouth_within_two_frames(renderer: Renderer, asset: RenderAsset) -> None:
    stream = renderer.stream(asset, batch_frames=5)
    stream.push_speech(speech(50))
    first = stream.render_next()
    stream.clear_buffer()
    after = stream.render_next()
    assert [f.pts for f in after] == [5, 6, 7, 8, 9]
    openings = [float(f.mouth[0]) for f in first + after]
    assert openings[:5] == pytest.approx([0.8] * 5)
    assert 0.0 < openings[5] < 0.8 and openings[5 + CLOSE_FRAMES] == 0.0
    assert openings[5:] == sorted(openings[5:], reverse=True)
    assert stream.queued_end_pts() == stream.next_pts == 10


def test_idle_frames_move_and_never_change_outside_the_roi(renderer: Renderer, asset: RenderAsset) -> None:
    stream = renderer.stream(asset, seed=11, batch_frames=25)
    frames = [f.image.copy() for f in stream.render_next()] + [f.image.copy() for f in stream.render_next()]
    assert all(np.array_equal(f[outside(asset.roi, SIZE_PX)], asset.image[outside(asset.roi, SIZE_PX)]) for f in frames)
    assert len({f.tobytes() for f in frames}) >= 5, "idle frames must not freeze"


def test_i420_frames_and_async_batches(renderer: Renderer, asset: RenderAsset) -> None:
    executor = ThreadPoolExecutor(1)
    stream = renderer.stream(asset, output="i420", batch_frames=3, executor=executor)
    stream.push_speech(speech(4))

    async def take(n: int) -> list[Any]:
        frames = []
        async for frame in stream:
            frames.append((frame.pts, frame.image.shape, float(frame.mouth[0])))
            if len(frames) == n:
                return frames
        return frames

    got = asyncio.run(take(7))
    assert [pts for pts, _, _ in got] == list(range(7))
    assert {shape for _, shape, _ in got} == {(SIZE_PX * 3 // 2, SIZE_PX)}
    assert [round(o, 2) for _, _, o in got] == [0.8] * 4 + [0.0] * 3
    assert stream.next_pts == 9  # three batches of three: the reader pulled batches, not frames
    stream.skip_to(20)
    assert asyncio.run(take(1))[0][0] == 20
    executor.shutdown()


def test_an_asset_survives_its_bytes(renderer: Renderer, asset: RenderAsset) -> None:
    again = renderer.load_asset(renderer.dump_asset(asset))
    a, b = (renderer.stream(x, seed=5, batch_frames=2) for x in (asset, again))
    for s in (a, b):
        s.push_speech(speech(2))
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a.render_next(), b.render_next(), strict=True))
    with pytest.raises(ValueError):
        renderer.load_asset(b"not an asset")
    still = renderer.still(asset)
    assert still.shape == (SIZE_PX, SIZE_PX, 3)
