"""Text patches for layouts: word-wrapped, anti-aliased RGBA, cached (text changes rarely).

Uses Pillow's bundled scalable font (``ImageFont.load_default(size=...)``, Pillow >= 10.1), so no
system fonts are needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

RGBA = npt.NDArray[np.uint8]
Colour = tuple[int, int, int]


@lru_cache(maxsize=16)
def font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size_px)


def wrap(text: str, size_px: int, max_width_px: int) -> list[str]:
    """Greedy word wrap; a word longer than the width is broken by characters."""
    f = font(size_px)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if f.getlength(candidate) <= max_width_px:
                line = candidate
                continue
            if line:
                lines.append(line)
            while f.getlength(word) > max_width_px and len(word) > 1:
                cut = len(word)
                while cut > 1 and f.getlength(word[:cut]) > max_width_px:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return [ln for ln in lines if ln] or [""]


@dataclass(frozen=True)
class TextStyle:
    size_px: int
    colour: Colour = (255, 255, 255)
    line_gap: float = 0.22  # extra space between lines, in font sizes
    align: str = "left"  # "left" or "center"
    stroke_px: int = 0  # same-colour stroke: a heavier weight for headlines
    box_colour: Colour | None = None  # a rounded box behind the text (subtitles)
    box_alpha: float = 0.6
    box_pad_px: int = 12
    shadow_alpha: float = 0.0  # a soft drop shadow under the glyphs


def fit_lines(text: str, style: TextStyle, max_width_px: int, max_lines: int, min_size_px: int) -> TextStyle:
    """Shrink the style's font until the text wraps into ``max_lines`` (or the minimum size)."""
    size = style.size_px
    while size > min_size_px and len(wrap(text, size, max_width_px)) > max_lines:
        size = max(min_size_px, int(size * 0.9))
    return TextStyle(**{**style.__dict__, "size_px": size})


def _metrics(style: TextStyle) -> tuple[int, int, int]:
    """A line's height, the step from one line to the next, and the padding around the block (px)."""
    f = font(style.size_px)
    ascent, descent = f.getmetrics() if isinstance(f, ImageFont.FreeTypeFont) else (style.size_px, 0)
    line_h = ascent + descent
    step = round(line_h + style.line_gap * style.size_px)
    pad = style.box_pad_px if style.box_colour is not None else 2 + style.stroke_px
    return line_h, step, pad


def block_height_px(n_lines: int, style: TextStyle) -> int:
    """The height of ``n_lines`` of ``style`` as :func:`render_text` sets them (padding included)."""
    line_h, step, pad = _metrics(style)
    return step * (n_lines - 1) + line_h + 2 * pad


def fit_block(
    text: str, style: TextStyle, max_width_px: int, max_height_px: int, min_size_px: int
) -> tuple[TextStyle, int]:
    """The largest size (down to ``min_size_px``) at which ``text`` wraps into the box, and how many
    lines fit there: text is cut short (with "…") only when even the smallest size overflows."""
    size = style.size_px
    while True:
        n_lines = len(wrap(text, size, max_width_px))
        sized = TextStyle(**{**style.__dict__, "size_px": size})
        if block_height_px(n_lines, sized) <= max_height_px or size <= min_size_px:
            break
        size = max(min_size_px, int(size * 0.92))
    room = n_lines
    while room > 1 and block_height_px(room, sized) > max_height_px:
        room -= 1
    return sized, room


@lru_cache(maxsize=64)
def render_text(text: str, style: TextStyle, max_width_px: int, max_lines: int = 0) -> RGBA:
    """``text`` wrapped to ``max_width_px`` as a tight RGBA patch (premultiplied-free, straight alpha)."""
    lines = wrap(text, style.size_px, max_width_px)
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(".,;: ") + "…"
    f = font(style.size_px)
    line_h, step, pad = _metrics(style)
    widths = [int(np.ceil(f.getlength(ln))) + 2 * style.stroke_px for ln in lines]
    w = max(widths) + 2 * pad
    h = step * (len(lines) - 1) + line_h + 2 * pad
    canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    if style.box_colour is not None:
        radius = max(4, style.size_px // 3)
        fill = (*style.box_colour, int(255 * style.box_alpha))
        draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=radius, fill=fill)
    glyphs = Image.new("L", (w, h), 0)
    gdraw = ImageDraw.Draw(glyphs)
    for i, line in enumerate(lines):
        x = pad + ((max(widths) - widths[i]) // 2 if style.align == "center" else 0) + style.stroke_px
        gdraw.text((x, pad + i * step), line, font=f, fill=255, stroke_width=style.stroke_px, stroke_fill=255)
    if style.shadow_alpha > 0:
        from PIL import ImageFilter

        shadow = glyphs.filter(ImageFilter.GaussianBlur(max(1.0, style.size_px / 14)))
        offset = max(1, style.size_px // 24)
        shade = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        alpha = shadow.point(lambda v: int(v * style.shadow_alpha))
        shade.putalpha(alpha)
        canvas.alpha_composite(shade, (offset, offset))
    solid = Image.new("RGBA", (w, h), (*style.colour, 255))
    solid.putalpha(glyphs)
    canvas.alpha_composite(solid)
    patch = np.asarray(canvas, dtype=np.uint8).copy()
    patch.setflags(write=False)  # cached and shared: never modified in place
    return patch
