"""Thumbnails, posters, the I420 layout, the faststart check and the encode floor."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from neura.encode import (
    encode_floor,
    i420_planes,
    i420_shape,
    i420_to_rgb,
    probe,
    rgb_to_i420,
    save_poster,
    save_thumbnail,
)
from neura.encode.floor import synthetic_frames
from neura.encode.probe import is_faststart, top_level_atoms
from neura.errors import InputError, OutputError


def test_thumbnail_is_a_scaled_jpeg(tmp_path: Path) -> None:
    rgb = np.zeros((720, 1280, 3), np.uint8)
    rgb[:, :640] = (200, 40, 40)
    save_thumbnail(rgb, tmp_path / "thumb.jpg")
    data = (tmp_path / "thumb.jpg").read_bytes()
    assert data[:2] == b"\xff\xd8"
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (640, 360)
    left = np.asarray(image)[180, 100]
    assert np.abs(left.astype(int) - (200, 40, 40)).max() < 12


def test_small_thumbnails_are_not_upscaled(tmp_path: Path) -> None:
    save_thumbnail(np.full((100, 50, 3), 128, np.uint8), tmp_path / "small.jpg")
    assert Image.open(tmp_path / "small.jpg").size == (50, 100)


def test_thumbnail_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        save_thumbnail(np.zeros((10, 10), np.uint8), tmp_path / "bad.jpg")
    with pytest.raises(OutputError):
        save_thumbnail(np.zeros((10, 10, 3), np.uint8), tmp_path / "missing" / "t.jpg")


def test_poster_from_the_video(clip: Path, rgb_frames: list[npt.NDArray[np.uint8]], tmp_path: Path) -> None:
    save_poster(clip, tmp_path / "poster.jpg", at_s=1.0)
    poster = np.asarray(Image.open(tmp_path / "poster.jpg"))
    assert poster.shape == rgb_frames[25].shape
    assert np.abs(poster.astype(int) - rgb_frames[25]).mean() < 6


def test_i420_layout_and_colours() -> None:
    assert i420_shape(1280, 720) == (1080, 1280)
    black, white = np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 255, np.uint8)
    assert rgb_to_i420(black).tolist() == [[16] * 4] * 4 + [[128] * 4] * 2
    assert rgb_to_i420(white).tolist() == [[235] * 4] * 4 + [[128] * 4] * 2
    red = rgb_to_i420(np.full((4, 4, 3), (255, 0, 0), np.uint8))
    y, u, v = i420_planes(red)
    assert (y.shape, u.shape, v.shape) == ((4, 4), (2, 2), (2, 2))
    assert (int(y[0, 0]), int(u[0, 0]), int(v[0, 0])) == (63, 102, 240)  # BT.709 limited range
    y[:] = 0  # the planes are views into the frame
    assert not red[:4].any()
    odd_rows = rgb_to_i420(np.full((6, 4, 3), (30, 200, 90), np.uint8))  # height not a multiple of 4
    assert np.abs(i420_to_rgb(odd_rows).astype(int) - (30, 200, 90)).max() <= 2
    with pytest.raises(InputError):
        rgb_to_i420(np.zeros((5, 4, 3), np.uint8))


def test_faststart_check_reads_the_box_order(tmp_path: Path, clip: Path) -> None:
    assert top_level_atoms(clip)[:1] == ["ftyp"] and is_faststart(clip)
    slow = tmp_path / "slow.mp4"

    def box(kind: bytes, payload: bytes = b"") -> bytes:
        return (8 + len(payload)).to_bytes(4, "big") + kind + payload

    slow.write_bytes(box(b"ftyp", b"isom") + box(b"mdat", b"\0" * 16) + box(b"moov"))
    assert top_level_atoms(slow) == ["ftyp", "mdat", "moov"] and not is_faststart(slow)
    with pytest.raises(InputError):
        probe(tmp_path / "missing.mp4")


def test_synthetic_frames() -> None:
    frames = synthetic_frames(640, 360, 3)
    assert len(frames) == 3 and frames[0].shape == (360, 640, 3) and frames[0].dtype == np.uint8
    moving = np.any(frames[0] != frames[1], axis=-1)
    rows, cols = np.nonzero(moving)
    assert rows.ptp() <= 320 and cols.ptp() <= 320  # only the "head" region moves
    noise = synthetic_frames(64, 64, 2, scene="noise")
    assert noise[0].std() > 50


@pytest.mark.parametrize("input_format", ["i420", "rgb"])
def test_encode_floor(input_format: str) -> None:
    result = encode_floor(10, 320, 240, 25, input_format=input_format, threads=1)  # type: ignore[arg-type]
    assert result["n_frames"] == 10 and result["seconds"] > 0 and result["fps"] > 0
    assert result["bytes"] > 1000 and result["threads"] == 1
