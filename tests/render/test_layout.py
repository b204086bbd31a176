"""Layouts: shapes, I420 that matches the RGB composite, incremental updates, text."""

from __future__ import annotations

import time

import numpy as np
import pytest

from neura.avatar import AvatarRig, IdleMotion
from neura.encode import i420_to_rgb, rgb_to_i420
from neura.media import MouthPose
from neura.render import CpuBackend, Layout
from neura.render.text import block_height_px, fit_block, wrap

HEADLINE = "Why the tides rise and fall twice a day"
TITLE = "How tides work"
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
    titled = layout.compose_rgb(frames[0], headline=HEADLINE, title=TITLE)
    for rect in (layout.headline_rect, layout.title_rect):
        x0, y0, x1, y1 = rect or (0, 0, 0, 0)
        assert np.abs(titled[y0:y1, x0:x1].astype(int) - plain[y0:y1, x0:x1]).max() > 150
    assert np.array_equal(layout.compose_rgb(frames[0]), plain)
    square = Layout.square(512)
    bare = square.compose_rgb(frames[0])
    captioned = square.compose_rgb(frames[0], caption=CAPTION)
    bottom = slice(512 - 80, 512)  # the square layout has nowhere else for subtitles
    assert np.abs(captioned[bottom].astype(int) - bare[bottom]).mean() > 5


LONG = (
    "Every twelve hours and twenty-five minutes the sea comes back up the beach, because the Moon and, "
    "to a lesser degree, the Sun pull the oceans towards them and the Earth turns underneath the bulges."
)


def _card(layout: Layout) -> tuple[slice, slice]:
    """The portrait card, with the room its shadow takes."""
    x0, y0, x1, y1 = layout.avatar_rect
    return slice(max(y0 - 4, 0), min(y1 + 30, layout.height)), slice(max(x0 - 4, 0), x1 + 4)


@pytest.mark.parametrize("side", ["left", "right"])
def test_captions_never_cover_the_portrait_card(rig: AvatarRig, frames: list[np.ndarray], side: str) -> None:
    layout = Layout.presenter_720p(avatar_size=rig.size_px, avatar_side=side)
    plain = layout.compose_rgb(frames[0])
    for caption in (CAPTION, LONG, "Short."):
        framed = layout.compose_rgb(frames[0], caption=caption, headline=HEADLINE, title=TITLE)
        rows, cols = _card(layout)
        assert np.array_equal(framed[rows, cols], plain[rows, cols]), caption
        assert np.abs(framed.astype(int) - plain).max() > 150  # the caption is somewhere


def test_one_sentence_at_a_time(rig: AvatarRig, frames: list[np.ndarray]) -> None:
    """A subtitle takes the headline's place in the side column: two sentences never show together."""
    layout = _presenter(rig)
    both = layout.compose_rgb(frames[0], caption=CAPTION, headline=HEADLINE, title=TITLE)
    caption_only = _presenter(rig).compose_rgb(frames[0], caption=CAPTION, title=TITLE)
    headline_only = _presenter(rig).compose_rgb(frames[0], headline=HEADLINE, title=TITLE)
    assert np.array_equal(both, caption_only)
    assert not np.array_equal(both, headline_only)
    # and back: when the subtitle goes, the headline returns
    assert np.array_equal(layout.compose_rgb(frames[0], headline=HEADLINE, title=TITLE), headline_only)


def test_side_caption_is_not_cut_short_when_there_is_room(rig: AvatarRig) -> None:
    layout = _presenter(rig)
    x0, y0, x1, y1 = layout.headline_rect or (0, 0, 0, 0)
    for text in (CAPTION, LONG, HEADLINE):
        style, lines = fit_block(text, layout.side_caption_style, x1 - x0, y1 - y0, min_size_px=22)
        assert lines == len(wrap(text, style.size_px, x1 - x0)), text  # every line fits: no "…"
        assert block_height_px(lines, style) <= y1 - y0
        assert style.size_px >= 30  # and at a readable size
    # only text that overflows even the smallest size is cut, and then it fills the column
    huge = " ".join([LONG] * 6)
    style, lines = fit_block(huge, layout.side_caption_style, x1 - x0, y1 - y0, min_size_px=22)
    assert style.size_px == 22 and lines < len(wrap(huge, 22, x1 - x0))
    assert block_height_px(lines + 1, style) > y1 - y0


def test_title_shows_in_the_header(rig: AvatarRig, frames: list[np.ndarray]) -> None:
    layout = _presenter(rig)
    plain = layout.compose_rgb(frames[0], caption=CAPTION)
    titled = layout.compose_rgb(frames[0], caption=CAPTION, title=TITLE)
    x0, y0, x1, y1 = layout.title_rect or (0, 0, 0, 0)
    changed = np.abs(titled.astype(int) - plain).max(axis=2) > 60
    assert changed[y0:y1, x0:x1].sum() > 200
    assert changed.sum() == changed[y0:y1, x0:x1].sum()  # nowhere else


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
