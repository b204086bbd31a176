"""Photos for the corpus, made in memory from the packaged public-domain portraits (tests/portraits.py)."""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from tests.platform.photos import png_bomb, truncated_jpeg
from tests.portraits import astronaut, hopper

__all__ = ["png_bomb", "truncated_jpeg"]


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _portrait() -> Image.Image:
    return Image.fromarray(astronaut())


def cmyk_jpeg() -> bytes:
    """A print-ready CMYK JPEG (what some photo tools export)."""
    return _save(_portrait().convert("CMYK"), "JPEG", quality=90)


def gray16_png() -> bytes:
    """A 16-bit greyscale PNG (a scanner's or a raw converter's output)."""
    gray = np.asarray(_portrait().convert("L"), dtype=np.uint16) * 257
    return _save(Image.fromarray(gray), "PNG")


def animated_gif() -> bytes:
    frames = [_portrait().convert("P"), _portrait().transpose(Image.Transpose.FLIP_LEFT_RIGHT).convert("P")]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def animated_webp() -> bytes:
    """Two frames: the portrait, then the portrait mirrored (a still photo is its first frame)."""
    frames = [_portrait(), _portrait().transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, quality=80)


def huge_canvas_png(side: int = 20_000) -> bytes:
    """A real 20000 x 20000 image (400 megapixels, 1-bit so that it is cheap to make; ~100 KB as PNG)."""
    return _save(Image.new("1", (side, side), 1), "PNG")


# EXIF orientation 3 = rotated 180°, 6 = the camera turned 90° clockwise, 8 = turned 90° counter-clockwise:
# the pixels are stored turned, and the tag says how to turn them back upright.
_STORED_TURN = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def exif_rotated_jpeg(orientation: int) -> bytes:
    """A portrait whose pixels are stored turned, with the EXIF tag that turns them upright again."""
    stored = _portrait().transpose(_STORED_TURN[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _save(stored, "JPEG", quality=90, exif=exif.tobytes())


def face_at_edge_jpeg() -> bytes:
    """The portrait shifted so that the face touches the photo's left border."""
    rgb = astronaut()
    return _save(Image.fromarray(np.ascontiguousarray(rgb[:, 150:])), "JPEG", quality=90)


def face_drawing_png() -> bytes:
    """A drawn face (skin-coloured oval, eyes, a smile): the detector takes it for a face, and NEURA
    animates it like a photo."""
    image = Image.new("RGB", (512, 512), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    draw.ellipse((106, 86, 406, 426), outline=(20, 20, 20), width=6, fill=(255, 224, 189))
    draw.ellipse((180, 190, 220, 230), fill=(20, 20, 20))
    draw.ellipse((292, 190, 332, 230), fill=(20, 20, 20))
    draw.arc((180, 250, 332, 360), start=20, end=160, fill=(150, 30, 30), width=6)
    return _save(image, "PNG")


@lru_cache(maxsize=1)
def crowd_jpeg() -> bytes:
    """Two people side by side (a group photo): the larger face is used, with a warning."""
    left = Image.fromarray(astronaut()).resize((512, 512))
    right = Image.fromarray(hopper())
    right = right.resize((round(right.width * 400 / right.height), 400))
    canvas = Image.new("RGB", (512 + right.width, 512), (200, 200, 200))
    canvas.paste(left, (0, 0))
    canvas.paste(right, (512, 56))
    return _save(canvas, "JPEG", quality=90)


def landscape_drawing_png() -> bytes:
    """A child's drawing of a house under the sun: no face at all."""
    image = Image.new("RGB", (640, 480), (235, 245, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 380, 640, 480), fill=(90, 170, 80))
    draw.rectangle((200, 220, 420, 380), outline=(60, 40, 20), width=5, fill=(230, 200, 150))
    draw.polygon([(180, 220), (310, 120), (440, 220)], outline=(60, 40, 20), fill=(170, 60, 50))
    draw.rectangle((290, 300, 340, 380), fill=(110, 70, 40))
    draw.ellipse((520, 30, 600, 110), fill=(250, 210, 40))
    return _save(image, "PNG")
