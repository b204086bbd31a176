"""load_image: type sniffing, size guards, EXIF orientation, colour modes, broken files."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neura.avatar import load_image
from neura.errors import ImageError

from .conftest import RGB, encode


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_reads_png_jpeg_webp_from_bytes(astronaut: RGB, fmt: str) -> None:
    rgb = load_image(encode(astronaut, fmt, quality=95))
    assert rgb.shape == astronaut.shape and rgb.dtype == np.uint8
    assert float(np.abs(rgb.astype(int) - astronaut).mean()) < 6


def test_type_is_sniffed_not_taken_from_the_name(tmp_path: Path, astronaut: RGB) -> None:
    path = tmp_path / "photo.jpg"  # PNG bytes behind a .jpg name: fine
    path.write_bytes(encode(astronaut, "PNG"))
    assert load_image(path).shape == astronaut.shape
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a photo at all\n")
    with pytest.raises(ImageError, match="not a JPEG, PNG or WebP"):
        load_image(text)


def test_exif_orientation_is_honoured() -> None:
    tall = np.zeros((40, 60, 3), np.uint8)  # 60 wide, 40 high, a red block top-left
    tall[:10, :10] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    raw = encode(tall, "JPEG", quality=95, exif=exif.tobytes())
    rgb = load_image(raw)
    assert rgb.shape == (60, 40, 3)
    assert rgb[:10, -10:, 0].mean() > 200  # the block is now top-right
    assert rgb[:10, :10, 0].mean() < 60


def test_colour_modes_become_rgb(astronaut: RGB) -> None:
    gray = Image.fromarray(astronaut).convert("L")
    rgba = Image.fromarray(astronaut).convert("RGBA")
    rgba.putalpha(0)  # fully transparent: laid on white
    cmyk = Image.fromarray(astronaut).convert("CMYK")
    for image, fmt in ((gray, "PNG"), (rgba, "PNG"), (cmyk, "JPEG")):
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        rgb = load_image(buffer.getvalue())
        assert rgb.shape == astronaut.shape and rgb.dtype == np.uint8
    assert load_image(encode(np.asarray(rgba), "PNG")).min() == 255


def test_gif_is_refused_with_a_clear_message(astronaut: RGB) -> None:
    buffer = io.BytesIO()
    Image.fromarray(astronaut).save(buffer, format="GIF")
    with pytest.raises(ImageError, match="GIF"):
        load_image(buffer.getvalue())


def test_truncated_and_corrupt_files(astronaut: RGB) -> None:
    jpeg = encode(astronaut, "JPEG")
    with pytest.raises(ImageError, match="corrupt or truncated"):
        load_image(jpeg[: len(jpeg) // 2])
    png = encode(astronaut, "PNG")
    broken = png[:100] + bytes(len(png) - 100)
    with pytest.raises(ImageError):
        load_image(broken)
    with pytest.raises(ImageError, match="empty"):
        load_image(b"")


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_without_allocating_it() -> None:
    bomb = _png_header_only(50_000, 50_000)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ImageError, match=r"50000x50000|too large"):
        load_image(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 20_000_000


def test_size_limits(tmp_path: Path, astronaut: RGB) -> None:
    raw = encode(astronaut, "PNG")
    with pytest.raises(ImageError, match="MB"):
        load_image(raw, max_bytes=1000)
    path = tmp_path / "big.png"
    path.write_bytes(raw)
    with pytest.raises(ImageError, match="MB"):
        load_image(path, max_bytes=1000)
    with pytest.raises(ImageError, match="megapixels"):
        load_image(raw, max_pixels=100_000)
    with pytest.raises(ImageError, match="cannot read"):
        load_image(tmp_path / "missing.png")
