"""Test photos made in memory: a public-domain portrait (scikit-image's astronaut), a cat (no human
face), and broken or hostile files."""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache

import numpy as np
from PIL import Image


def _encode(rgb: np.ndarray, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt, **options)
    return buffer.getvalue()


@lru_cache(maxsize=4)
def portrait(fmt: str = "JPEG") -> bytes:
    """A 512x512 photo of one clearly visible human face."""
    from skimage import data

    return _encode(data.astronaut(), fmt, **({"quality": 90} if fmt == "JPEG" else {}))


@lru_cache(maxsize=1)
def cat_jpeg() -> bytes:
    """A real photo with no human face in it."""
    from skimage import data

    return _encode(data.chelsea(), "JPEG", quality=90)


def truncated_jpeg() -> bytes:
    whole = portrait()
    return whole[: len(whole) // 3]


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A small, valid-looking PNG whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def gif() -> bytes:
    return _encode(np.zeros((8, 8, 3), np.uint8), "GIF")
