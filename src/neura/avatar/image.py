"""Reading the avatar photo: type sniffing, size guards, EXIF orientation, conversion to RGB."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from neura.errors import ImageError
from neura.limits import PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS

RGBImage = npt.NDArray[np.uint8]

_HINT = "use a JPEG, PNG or WebP photo"


def sniff_image_type(head: bytes) -> str | None:
    """The image type named by a file's first bytes: ``"jpeg"``, ``"png"``, ``"webp"`` or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _describe(head: bytes) -> str:
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "a TIFF"
    if head.startswith(b"BM"):
        return "a BMP"
    if head.startswith(b"%PDF"):
        return "a PDF"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "a HEIC/AVIF or video file"
    if not head:
        return "empty"
    return "not an image we can read"


def _read_source(source: str | Path | bytes, max_bytes: int, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = name or "the uploaded image"
    else:
        path = Path(source)
        name = name or path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ImageError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if size > max_bytes:
            raise ImageError(
                f"{name} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB",
                hint="use a smaller photo",
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise ImageError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB",
            hint="use a smaller photo",
        )
    return data, name


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB. Transparent pixels are laid on white (a studio-like backdrop)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        hi = float(arr.max()) or 1.0
        return Image.fromarray((arr / hi * 255.0).clip(0, 255).astype(np.uint8), "L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        backdrop = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(backdrop, rgba).convert("RGB")
    return image.convert("RGB")


def load_image(
    source: str | Path | bytes,
    *,
    max_bytes: int = PHOTO_MAX_BYTES,
    max_pixels: int = PHOTO_MAX_PIXELS,
    name: str | None = None,
) -> RGBImage:
    """Decode a JPEG, PNG or WebP photo into an RGB uint8 array of shape (height, width, 3).

    ``name`` is how messages call it (default: a path's file name, or "the uploaded image" for bytes).

    The type is sniffed from the bytes, not the file name. EXIF orientation is applied. Files over
    ``max_bytes`` and images over ``max_pixels`` (decompression bombs) are refused before decoding.
    Raises :class:`ImageError` with a message for the user on anything unusable.
    """
    data, name = _read_source(source, max_bytes, name)
    kind = sniff_image_type(data[:16])
    if kind is None:
        raise ImageError(f"{name} is {_describe(data[:16])}, not a JPEG, PNG or WebP image", hint=_HINT)
    try:
        opened = Image.open(io.BytesIO(data), formats=[kind.upper()])
        width, height = opened.size  # read from the header: nothing is decoded yet
        if width * height > max_pixels:
            raise ImageError(
                f"{name} is {width}x{height} pixels; the limit is {max_pixels / 1e6:.0f} megapixels",
                hint="use a smaller photo",
            )
        if width < 1 or height < 1:
            raise ImageError(f"{name} has no pixels", hint=_HINT)
        opened.load()
        image: Image.Image = ImageOps.exif_transpose(opened) or opened
        array = np.asarray(_to_rgb(image), dtype=np.uint8)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name} is too large to decode safely ({exc})", hint="use a smaller photo") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(
            f"{name} looks like a {kind.upper()} file but is corrupt or truncated ({exc})",
            hint="re-export or re-upload the photo",
        ) from exc
    if array.ndim != 3 or array.shape[2] != 3:
        raise ImageError(f"{name} decoded to an unexpected shape {array.shape}", hint=_HINT)
    return np.ascontiguousarray(array)
