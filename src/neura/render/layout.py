"""Layouts: where the avatar, the title, the headline and the subtitles go in the video frame.

The presenter layout (1280x720) keeps every text off the portrait card: the title sits at the top of
the side column, and below it one block of text, either the scene's headline or, when subtitles are
burned in, the sentence being spoken (which then replaces the headline, so two different sentences
never show at once). That block is set as large as fits and shrinks before it is ever cut short.
The square layout puts subtitles at the bottom, over the avatar (there is nowhere else).

``compose`` returns the frame as planar YUV 4:2:0 (I420, BT.709 limited range as the MP4 is tagged;
see :mod:`neura.encode.yuv`), shape (height * 3 // 2, width), which the encoder consumes directly.
The layout keeps a persistent canvas (RGB and I420) and per frame converts only what changed: the
avatar's ROI (see ``dynamic_roi``), and text only when it changes. A layout holds one stream's
canvas: use one per video (or live session), from one thread at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from neura.render.text import RGBA, TextStyle, fit_block, fit_lines, render_text
from neura.render.yuv import rgb_to_i420_planes

RGB = npt.NDArray[np.uint8]
I420 = npt.NDArray[np.uint8]
Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
Colour = tuple[int, int, int]

DEFAULT_GRADIENT: tuple[Colour, Colour] = ((24, 32, 52), (58, 78, 112))


def _even(rect: Rect, width: int, height: int) -> Rect:
    x0, y0, x1, y1 = rect
    return max(x0 & ~1, 0), max(y0 & ~1, 0), min((x1 + 1) & ~1, width), min((y1 + 1) & ~1, height)


def _intersect(a: Rect, b: Rect) -> Rect | None:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def gradient(width: int, height: int, colours: tuple[Colour, Colour] = DEFAULT_GRADIENT) -> RGB:
    """A diagonal two-colour gradient with a soft vignette."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = np.clip((0.35 * xs / width + 0.65 * ys / height), 0, 1)[..., None]
    a, b = (np.array(c, dtype=np.float32) for c in colours)
    img = a + (b - a) * t
    r = np.hypot((xs - width * 0.7) / width, (ys - height * 0.35) / height)
    img *= (1.0 - 0.25 * np.clip(r, 0, 1) ** 2)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def cover_fit(image: RGB, width: int, height: int) -> RGB:
    """Scale ``image`` to cover width x height and crop the middle."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(image, (max(width, round(w * scale)), max(height, round(h * scale))), interpolation=interp)
    y0 = (resized.shape[0] - height) // 2
    x0 = (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width], dtype=np.uint8)


def rounded_mask(size: int, radius: int) -> npt.NDArray[np.float32]:
    """Anti-aliased rounded-square coverage, 0..1."""
    scale = 4
    big = np.zeros((size * scale, size * scale), np.uint8)
    r = radius * scale
    s = size * scale - 1
    cv2.rectangle(big, (r, 0), (s - r, s), (255,), -1)
    cv2.rectangle(big, (0, r), (s, s - r), (255,), -1)
    for cx, cy in ((r, r), (s - r, r), (r, s - r), (s - r, s - r)):
        cv2.circle(big, (cx, cy), r, (255,), -1, lineType=cv2.LINE_AA)
    return cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


@dataclass
class _Overlay:
    rect: Rect
    patch: RGBA


@dataclass
class Layout:
    """A frame of ``width`` x ``height`` with the avatar (``avatar_size`` square) at ``avatar_xy``."""

    width: int
    height: int
    background: RGB
    avatar_xy: tuple[int, int]
    avatar_size: int
    corner_radius_px: int = 0
    headline_rect: Rect | None = None  # where the headline may go; None: no headline
    headline_style: TextStyle = field(default_factory=lambda: TextStyle(52, (245, 247, 250), stroke_px=1))
    title_rect: Rect | None = None  # where the video's title goes; None: no title
    title_style: TextStyle = field(default_factory=lambda: TextStyle(34, (150, 185, 250), stroke_px=0))
    caption_place: Literal["bottom", "side"] = "bottom"  # "side": subtitles take the headline's place
    caption_style: TextStyle = field(
        default_factory=lambda: TextStyle(30, (255, 255, 255), align="center", box_colour=(10, 12, 18))
    )
    caption_bottom_px: int = 28
    caption_width_share: float = 0.72  # of the frame's width
    dynamic_roi: Rect | None = None  # avatar pixels that change between frames (AvatarRig.roi)

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2:
            raise ValueError("I420 needs an even width and height")
        self._mask = rounded_mask(self.avatar_size, self.corner_radius_px) if self.corner_radius_px else None
        self._static = np.ascontiguousarray(self.background.copy())
        self._rgb = self._static.copy()
        self._i420 = np.empty((self.height * 3 // 2, self.width), np.uint8)
        self._to_i420((0, 0, self.width, self.height))
        self._texts: dict[str, tuple[str | None, _Overlay | None]] = {
            "title": (None, None),
            "headline": (None, None),
            "caption": (None, None),
        }
        self._opaque_cache: dict[Rect, bool] = {}
        self._avatar_probe: RGB | None = None  # sparse samples of the avatar's static part
        self._probe_at: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]] | None = None
        self._probe_roi: Rect | None = None
        ax, ay = self.avatar_xy
        self.avatar_rect: Rect = (ax, ay, ax + self.avatar_size, ay + self.avatar_size)

    @property
    def side_caption_style(self) -> TextStyle:
        """Subtitles in the side column: the headline's size, not bold."""
        return TextStyle(self.headline_style.size_px, (255, 255, 255), line_gap=0.25)

    @property
    def avatar_size_px(self) -> int:
        """The avatar's side in this layout: build the rig at this size (``build_avatar(size_px=...)``)."""
        return self.avatar_size

    # --- constructors
    @classmethod
    def presenter_720p(
        cls,
        background: Colour | RGB | None = None,
        *,
        avatar_size: int = 640,
        avatar_side: str = "left",
        margin_px: int = 40,
        dynamic_roi: Rect | None = None,
    ) -> Layout:
        """1280x720: the avatar as a large rounded card with a soft shadow on one side, the headline
        on the other, subtitles at the bottom. ``background``: an RGB colour, an image (cover-fitted)
        or None for the default gradient. ``dynamic_roi``: the avatar pixels that change between
        frames (``AvatarRig.roi``); without it every frame converts the whole avatar."""
        width, height = 1280, 720
        bg = _background(background, width, height)
        ax = margin_px + 20 if avatar_side == "left" else width - margin_px - 20 - avatar_size
        ay = (height - avatar_size) // 2
        radius = max(8, avatar_size // 22)
        _drop_shadow(bg, (ax, ay, ax + avatar_size, ay + avatar_size), radius)
        if avatar_side == "left":
            tx0, tx1 = ax + avatar_size + 64, width - margin_px - 24
        else:
            tx0, tx1 = margin_px + 24, ax - 64
        title_rect = (tx0, ay + 24, tx1, ay + 112)
        text_rect = (tx0, ay + 136, tx1, ay + avatar_size - 24)
        return cls(
            width, height, bg, (ax, ay), avatar_size, radius, headline_rect=text_rect, title_rect=title_rect,
            caption_place="side", dynamic_roi=dynamic_roi,
        )  # fmt: skip

    @classmethod
    def square(cls, size: int = 512, *, dynamic_roi: Rect | None = None) -> Layout:
        """Just the avatar, full frame (plus optional subtitles)."""
        style = TextStyle(max(18, size // 20), (255, 255, 255), align="center", box_colour=(10, 12, 18))
        return cls(size, size, np.zeros((size, size, 3), np.uint8), (0, 0), size, caption_style=style,
                   caption_bottom_px=max(10, size // 28), caption_width_share=0.88,
                   dynamic_roi=dynamic_roi)  # fmt: skip

    # --- composing
    def compose(
        self,
        avatar_rgb: RGB,
        *,
        caption: str | None = None,
        headline: str | None = None,
        title: str | None = None,
        copy: bool = True,
    ) -> I420:
        """The frame as I420. Only the avatar's ROI and changed text are converted.

        ``copy=False`` returns a read-only view of the layout's canvas instead of a new array: valid
        until the next call, for a caller that hands it straight on (the MP4 writer copies it)."""
        self._update(avatar_rgb, caption, headline, title)
        if copy:
            return self._i420.copy()
        view = self._i420.view()
        view.flags.writeable = False
        return view

    def compose_rgb(
        self, avatar_rgb: RGB, *, caption: str | None = None, headline: str | None = None, title: str | None = None
    ) -> RGB:
        """The same frame as RGB (thumbnails, tests)."""
        self._update(avatar_rgb, caption, headline, title)
        return self._rgb.copy()

    def _update(self, avatar: RGB, caption: str | None, headline: str | None, title: str | None) -> None:
        resized = avatar.shape != (self.avatar_size, self.avatar_size, 3)
        if resized:  # a rig of another size: correct, but slow (and the ROI no longer applies)
            size = (self.avatar_size, self.avatar_size)
            interp = cv2.INTER_AREA if avatar.shape[0] > self.avatar_size else cv2.INTER_CUBIC
            avatar = np.asarray(cv2.resize(avatar, size, interpolation=interp), dtype=np.uint8)
        if self.caption_place == "side" and caption and caption.strip():
            headline = None  # the sentence being spoken takes the headline's place: never two at once
        dirty: list[Rect] = []
        dirty += self._set_text("title", title)
        dirty += self._set_text("headline", headline)
        dirty += self._set_text("caption", caption)
        if self._static_part_changed(avatar) or self.dynamic_roi is None or resized:
            dirty.append(self.avatar_rect)
        else:
            ax, ay = self.avatar_xy
            x0, y0, x1, y1 = self.dynamic_roi
            dirty.append((ax + x0, ay + y0, ax + x1, ay + y1))
        for rect in dirty:
            self._redraw(_even(rect, self.width, self.height), avatar)

    def _static_part_changed(self, avatar: RGB) -> bool:
        """Whether the avatar differs from the last one outside the dynamic ROI (sparse check)."""
        if self._probe_at is None or self._probe_roi != self.dynamic_roi:
            self._probe_at = self._probe_points()
            self._probe_roi = self.dynamic_roi
            self._avatar_probe = None
        probe = avatar[self._probe_at]
        changed = self._avatar_probe is None or not np.array_equal(probe, self._avatar_probe)
        self._avatar_probe = probe
        return changed

    def _probe_points(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """A sparse grid of avatar pixels outside the dynamic ROI."""
        step = max(4, self.avatar_size // 48)
        ys, xs = np.mgrid[1 : self.avatar_size : step, 1 : self.avatar_size : step]
        keep = np.ones(ys.shape, bool)
        if self.dynamic_roi is not None:
            x0, y0, x1, y1 = self.dynamic_roi
            keep = ~((ys >= y0) & (ys < y1) & (xs >= x0) & (xs < x1))
        return ys[keep], xs[keep]

    def _set_text(self, slot: str, text: str | None) -> list[Rect]:
        text = text.strip() if text else None
        old_text, old = self._texts[slot]
        if text == old_text:
            return []
        new = self._make_overlay(slot, text) if text else None
        self._texts[slot] = (text, new)
        return [o.rect for o in (old, new) if o is not None]

    def _make_overlay(self, slot: str, text: str) -> _Overlay | None:
        if slot == "title":
            if self.title_rect is None:
                return None
            x0, y0, x1, y1 = self.title_rect
            style, lines = fit_block(text, self.title_style, x1 - x0, y1 - y0, min_size_px=20)
            patch = render_text(text, style, x1 - x0, max_lines=lines)
            return _Overlay((x0, y0, x0 + patch.shape[1], y0 + min(patch.shape[0], y1 - y0)), patch[: y1 - y0])
        if slot == "headline" or (slot == "caption" and self.caption_place == "side"):
            if self.headline_rect is None:
                return None
            x0, y0, x1, y1 = self.headline_rect
            base = self.headline_style if slot == "headline" else self.side_caption_style
            style, lines = fit_block(text, base, x1 - x0, y1 - y0, min_size_px=22)
            patch = render_text(text, style, x1 - x0, max_lines=lines)
            h = min(patch.shape[0], y1 - y0)
            top = y0 + (y1 - y0 - h) // 2
            return _Overlay((x0, top, x0 + patch.shape[1], top + h), patch[:h])
        max_w = int(self.width * self.caption_width_share)
        style = fit_lines(text, self.caption_style, max_w, max_lines=2, min_size_px=14)
        patch = render_text(text, style, max_w, max_lines=2)
        ph, pw = patch.shape[:2]
        x0 = (self.width - pw) // 2
        y1 = self.height - self.caption_bottom_px
        return _Overlay((x0, y1 - ph, x0 + pw, y1), patch)

    def _redraw(self, rect: Rect, avatar: RGB) -> None:
        """Recompose ``rect`` of the RGB canvas and convert it into the I420 canvas."""
        x0, y0, x1, y1 = rect
        if x1 <= x0 or y1 <= y0:
            return
        inter = _intersect(rect, self.avatar_rect)
        opaque = inter is not None and self._opaque(inter)
        if not (opaque and inter == rect):
            self._rgb[y0:y1, x0:x1] = self._static[y0:y1, x0:x1]
        if inter is not None:
            ax, ay = self.avatar_xy
            ix0, iy0, ix1, iy1 = inter
            src = avatar[iy0 - ay : iy1 - ay, ix0 - ax : ix1 - ax]
            dst = self._rgb[iy0:iy1, ix0:ix1]
            if opaque or self._mask is None:
                dst[:] = src
            else:
                a = self._mask[iy0 - ay : iy1 - ay, ix0 - ax : ix1 - ax, None]
                dst[:] = (src * a + dst * (1.0 - a)).astype(np.uint8)
        for _, overlay in self._texts.values():
            if overlay is not None:
                _blend_overlay(self._rgb, overlay, rect)
        self._to_i420(rect)

    def _opaque(self, rect: Rect) -> bool:
        """Whether the avatar card fully covers ``rect`` (canvas pixels); cached per rectangle."""
        if self._mask is None:
            return True
        hit = self._opaque_cache.get(rect)
        if hit is None:
            ax, ay = self.avatar_xy
            x0, y0, x1, y1 = rect
            hit = bool(self._mask[y0 - ay : y1 - ay, x0 - ax : x1 - ax].min() >= 1.0)
            self._opaque_cache[rect] = hit
        return hit

    def _to_i420(self, rect: Rect) -> None:
        x0, y0, x1, y1 = rect
        y, u, v = rgb_to_i420_planes(self._rgb[y0:y1, x0:x1])
        self._i420[y0:y1, x0:x1] = y
        u_plane, v_plane = self._chroma_planes()
        u_plane[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = u
        v_plane[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = v

    def _chroma_planes(self) -> tuple[RGB, RGB]:
        """Views of the canvas's U and V planes, each (height / 2, width / 2)."""
        flat = self._i420.reshape(-1)
        size = self.width * self.height
        q = size // 4
        half = (self.height // 2, self.width // 2)
        return flat[size : size + q].reshape(half), flat[size + q : size + 2 * q].reshape(half)


def _blend_overlay(canvas: RGB, overlay: _Overlay, rect: Rect) -> None:
    inter = _intersect(overlay.rect, rect)
    if inter is None:
        return
    ox, oy = overlay.rect[:2]
    x0, y0, x1, y1 = inter
    patch = overlay.patch[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    alpha = patch[..., 3:4].astype(np.float32) * np.float32(1 / 255)
    dst = canvas[y0:y1, x0:x1]
    dst[:] = (patch[..., :3] * alpha + dst * (1.0 - alpha)).astype(np.uint8)


def _background(background: Colour | RGB | None, width: int, height: int) -> RGB:
    if background is None:
        return gradient(width, height)
    if isinstance(background, np.ndarray):
        if background.ndim != 3 or background.shape[2] != 3:
            raise ValueError("background image must be RGB (height, width, 3)")
        return cover_fit(background.astype(np.uint8), width, height)
    r, g, b = (int(c) for c in background)
    return np.full((height, width, 3), (r, g, b), np.uint8)


def _drop_shadow(
    bg: RGB, rect: Rect, radius: int, *, blur_px: int = 24, offset_px: int = 14, alpha: float = 0.6
) -> None:
    """Darken ``bg`` under a soft, slightly offset shadow of the card, in place."""
    x0, y0, x1, _ = rect
    shadow = np.zeros(bg.shape[:2], np.float32)
    size = x1 - x0
    mask = rounded_mask(size, radius)
    sy0, sx0 = y0 + offset_px, x0
    h = min(size, bg.shape[0] - sy0)
    w = min(size, bg.shape[1] - sx0)
    shadow[sy0 : sy0 + h, sx0 : sx0 + w] = mask[:h, :w]
    shadow = np.asarray(cv2.GaussianBlur(shadow, (0, 0), blur_px), dtype=np.float32)
    bg[:] = (bg * (1.0 - alpha * shadow[..., None])).astype(np.uint8)
