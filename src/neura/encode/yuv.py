"""The I420 frame layout the encoder accepts, and conversions to and from RGB.

I420 (FFmpeg's ``yuv420p``) is one contiguous uint8 array of shape ``(height * 3 // 2, width)``:
rows ``0 .. height-1`` hold Y (luma, full resolution); after them, in memory order, come the U (Cb)
plane and then the V (Cr) plane, each ``(height // 2, width // 2)`` stored row after row (so when
``height`` is a multiple of 4, U fills the next ``height // 4`` rows and V the last ones);
:func:`i420_planes` gives the three planes as views. Width and height must be even. Values are
BT.709, limited range (Y 16-235, U/V 16-240): the colours the MP4 is tagged with. A renderer that
warps in YUV should convert its source image once with :func:`rgb_to_i420` and hand the encoder
I420 frames: that skips a colour conversion per frame.
"""

from __future__ import annotations

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Colorspace

from neura.errors import InputError

U8 = npt.NDArray[np.uint8]


def _bt709_limited_matrix() -> npt.NDArray[np.float32]:
    """3x4 affine RGB (0-255) -> Y'CbCr, BT.709 limited range (Y 16-235, Cb/Cr 16-240)."""
    kr, kb = 0.2126, 0.0722
    kg = 1.0 - kr - kb
    m = np.array(
        [
            [kr, kg, kb],
            [-kr / (1 - kb) / 2, -kg / (1 - kb) / 2, 0.5],
            [0.5, -kg / (1 - kr) / 2, -kb / (1 - kr) / 2],
        ]
    ) * np.array([[219 / 255], [224 / 255], [224 / 255]])
    return np.hstack([m, [[16.0], [128.0], [128.0]]]).astype(np.float32)


_RGB_TO_YUV = _bt709_limited_matrix()
_RGB_TO_Y = _RGB_TO_YUV[:1]
_RGB_TO_UV = _RGB_TO_YUV[1:]


def i420_shape(width: int, height: int) -> tuple[int, int]:
    """Array shape of one I420 frame of the given size."""
    check_even_size(width, height)
    return (height * 3 // 2, width)


def i420_planes(i420: U8) -> tuple[U8, U8, U8]:
    """Views of the Y ``(H, W)``, U ``(H/2, W/2)`` and V ``(H/2, W/2)`` planes of a contiguous I420
    array; writing into them writes into the frame."""
    rows, width = i420.shape
    height = rows * 2 // 3
    flat = i420.reshape(-1)  # a view for a contiguous array
    luma, chroma = height * width, height * width // 4
    y = flat[:luma].reshape(height, width)
    u = flat[luma : luma + chroma].reshape(height // 2, width // 2)
    v = flat[luma + chroma :].reshape(height // 2, width // 2)
    return y, u, v


def check_even_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise InputError(f"Video size must be positive and even (yuv420p), got {width}x{height}")


def yuv_frame_to_rgb(frame: av.VideoFrame) -> U8:
    """A decoded frame as an RGB uint8 (H, W, 3) array, read as BT.709 limited range."""
    rgb = frame.reformat(
        format="rgb24",
        src_colorspace=Colorspace.ITU709,
        dst_colorspace=Colorspace.ITU709,
        src_color_range=ColorRange.MPEG,
        dst_color_range=ColorRange.JPEG,
    )
    return np.asarray(rgb.to_ndarray(), dtype=np.uint8)


def rgb_to_i420(rgb: npt.ArrayLike) -> U8:
    """RGB uint8 (H, W, 3) -> I420 uint8 (H * 3 // 2, W), BT.709 limited range.

    Luma per pixel; chroma from the mean of each 2x2 block (OpenCV, about twice as fast as swscale).
    """
    array = np.ascontiguousarray(rgb, dtype=np.uint8)
    if array.ndim != 3 or array.shape[2] != 3:
        raise InputError(f"Expected an RGB array of shape (H, W, 3), got {array.shape}")
    height, width = array.shape[:2]
    check_even_size(width, height)
    out = np.empty((height * 3 // 2, width), np.uint8)
    y, u, v = i420_planes(out)
    y[:] = cv2.transform(array, _RGB_TO_Y)
    small = cv2.resize(array, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    uv = cv2.transform(small, _RGB_TO_UV)
    u[:] = uv[..., 0]
    v[:] = uv[..., 1]
    return out


def i420_to_rgb(i420: npt.ArrayLike) -> U8:
    """I420 uint8 (H * 3 // 2, W) -> RGB uint8 (H, W, 3)."""
    array = np.ascontiguousarray(i420, dtype=np.uint8)
    if array.ndim != 2 or array.shape[0] % 3:
        raise InputError(f"Expected an I420 array of shape (H * 3 // 2, W), got {array.shape}")
    return yuv_frame_to_rgb(av.VideoFrame.from_ndarray(array, format="yuv420p"))
