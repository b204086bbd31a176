"""Layouts: shapes, I420 that matches the RGB composite, incremental updates, text."""

from __future__ import annotations

import time

import numpy as np
import pytest

from neura.avatar import AvatarRig, IdleMotion
from neura.encode import i420_to_rgb, rgb_to_i420
from neura.media import MouthPose
from neura.render import CpuBackend, Layout

HEADLINE = "Why the tides rise and fall twice a day"
CAPTION = "The Moon pulls the oceans into two bulges, one on each side of the Earth."


@pytest.fixture(scope="module")
def frames(rig: AvatarRig, backend: CpuBackend) -> list[np.ndarray]:
    idle = IdleMotion(4)
    return [backend.render(rig, MouthPose(open=(i % 5) / 4), idle.head_pose(i / 25, speaking=1)) for i in range(6)]


def _presenter(rig: AvatarRig) -> Layout:
    layout = Layout.presenter_720p(avatar_size=rig.size_px)
    layout.dynamic_roi = rig.roi
    return layout


def test_shapes_and_types(rig: AvatarRig, frames: list[np.ndarray]) -> None:
    layout = _presenter(rig)
    assert (layout.width, layout.height) == (1280, 720)
    i420 = layout.compose(frames[0], caption=CAPTION, headline=HEADLINE)
    assert i420.shape == (1080, 1280) and i420.dtype == np.uint8
    rgb = layout.compose_rgb(frames[0], caption=CAPTION, headline=HEADLINE)
    assert rgb.shape == (720, 1280, 3) and rgb.dtype == np.uint8
    square = Layout.square(512)
    assert square.compose(frames[0]).shape == (768, 512)
    assert np.array_equal(square.compose_rgb(frames[0]), frames[0])


def test_i420_is_the_rgb_composite_in_bt709(rig: AvatarRig, frames: list[np.ndarray]) -> None:
    layout = _presenter(rig)
    i420 = layout.compose(frames[1], caption=CAPTION, headline=HEADLINE)
    rgb = layout.compose_rgb(frames[1], caption=CAPTION, headline=HEADLINE)
    reference = rgb_to_i420(rgb)  # the encoder's own conversion (BT.709, limited range)
    diff = np.abs(i420.astype(int) - reference)
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 3
    back = i420_to_rgb(i420)
    assert float(np.abs(back.astype(int) - rgb).mean()) < 2.0


def test_incremental_updates_equal_a_fresh_composite(rig: AvatarRig, frames: list[np.ndarray]) -> None:
    layout = _presenter(rig)
    texts = [(CAPTION, HEADLINE), (None, HEADLINE), ("Short line.", None), ("Short line.", "New topic")]
    for frame, (caption, headline) in zip(frames[:4], texts, strict=True):
        running = layout.compose(frame, caption=caption, headline=headline)
        fresh = _presenter(rig).compose(frame, caption=caption, headline=headline)
        assert np.array_equal(running, fresh)
    other = frames[4].copy()
    other[:20, :20] = 0  # a change outside the ROI (another avatar): noticed, fully redrawn
    assert np.array_equal(layout.compose(other), _presenter(rig).compose(other))


def test_compose_without_a_copy(rig: AvatarRig, frames: list[np.ndarray]) -> None:
    layout = _presenter(rig)
    view = layout.compose(frames[0], copy=False)
    assert not view.flags.writeable
    assert np.array_equal(view, layout.compose(frames[0]))


def test_text_appears_and_goes(rig: AvatarRig, frames: list[np.ndarray]) -> None:
    layout = _presenter(rig)
    plain = layout.compose_rgb(frames[0])
    titled = layout.compose_rgb(frames[0], headline=HEADLINE, caption=CAPTION)
    x0, y0, x1, y1 = layout.headline_rect or (0, 0, 0, 0)
    assert np.abs(titled[y0:y1, x0:x1].astype(int) - plain[y0:y1, x0:x1]).max() > 150
    bottom = slice(layout.height - 110, layout.height)
    assert np.abs(titled[bottom].astype(int) - plain[bottom]).mean() > 5
    assert np.array_equal(layout.compose_rgb(frames[0]), plain)


def test_backgrounds(rig: AvatarRig, frames: list[np.ndarray]) -> None:
    solid = Layout.presenter_720p((30, 90, 60), avatar_size=rig.size_px)
    assert tuple(solid.compose_rgb(frames[0])[5, 1270]) == (30, 90, 60)
    photo = np.zeros((300, 900, 3), np.uint8)
    photo[:, 450:] = 255
    covered = Layout.presenter_720p(photo, avatar_size=rig.size_px).compose_rgb(frames[0])
    assert covered[5, 5].max() < 30 and covered[5, 1275].min() > 200  # cover-fitted, centred


def test_compose_speed(rig: AvatarRig, frames: list[np.ndarray]) -> None:
    for name, layout in (("presenter 720p", _presenter(rig)), ("square 512", Layout.square(512))):
        layout.dynamic_roi = rig.roi
        layout.compose(frames[0], caption=CAPTION, headline=HEADLINE)
        started = time.thread_time()
        for i in range(60):
            layout.compose(frames[i % len(frames)], caption=CAPTION, headline=HEADLINE)
        print(f"\ncompose {name}: {(time.thread_time() - started) / 60 * 1e3:.2f} ms CPU per frame")
