"""The hostile-input corpus (tests/corpus) given to the command line: each bad file gets a clear
one-line error naming it, the exit code for bad data (65), no traceback, and
leaves no output behind. (A missing file is 65 too, as the CLI's exit codes say.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.corpus import audio, images
from tests.corpus.cases import FILES
from tests.platform.photos import cat_jpeg, gif
from tests.stt.samples import RATE_HZ, wav_bytes
from tests.test_cli import run

SCRIPT = "Hello there. This is a short test."

# name -> (the file's name and bytes, the command, the exit code, words the message must hold)
AVATAR_CASES: dict[str, tuple[str, Callable[[], bytes], int, str]] = {
    "truncated-jpeg": ("me.jpg", images.truncated_jpeg, 65, "me.jpg"),
    "decompression-bomb": ("bomb.png", images.png_bomb, 65, "bomb.png"),
    "20000px": ("huge.png", images.huge_canvas_png, 65, "huge.png"),
    "gif": ("party.gif", gif, 65, "party.gif"),
    "animated-gif": ("wave.gif", images.animated_gif, 65, "wave.gif"),
    "cat": ("cat.jpg", cat_jpeg, 65, "no face found in cat.jpg"),
    "house-drawing": ("house.png", images.landscape_drawing_png, 65, "no face found in house.png"),
    "pdf": ("cv.jpg", lambda: b"%PDF-1.7\n" * 50, 65, "cv.jpg"),
}


@pytest.mark.parametrize("case", list(AVATAR_CASES))
def test_a_bad_photo_is_named_and_refused(tmp_path: Path, case: str) -> None:
    filename, make, code, words = AVATAR_CASES[case]
    (tmp_path / filename).write_bytes(make())
    (tmp_path / "script.txt").write_text(SCRIPT)
    done = run("render", "--script", "script.txt", "--avatar", filename, "-o", "out.mp4", "-q", cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert words in done.stderr and "uploaded" not in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob(".*.part"))


SCRIPT_CASES: dict[str, tuple[Callable[[], bytes], int, str]] = {
    "empty": (lambda: b"", 65, "empty"),
    "only-punctuation": (lambda: b"... !!! ???\n", 65, "no words"),
    "arabic": (lambda: (FILES / "rtl_arabic.txt").read_bytes(), 65, "arabic script"),
    "too-long": (lambda: b"word " * 200_000, 65, "too long"),
    "binary": (lambda: bytes(range(256)) * 4, 65, "utf-8"),
}


@pytest.mark.parametrize("case", list(SCRIPT_CASES))
def test_a_bad_script_is_refused(tmp_path: Path, case: str) -> None:
    make, code, words = SCRIPT_CASES[case]
    (tmp_path / "script.txt").write_bytes(make())
    done = run("render", "--script", "script.txt", "-o", "out.mp4", "-q", cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert words in done.stderr.lower() and "Traceback" not in done.stderr
    assert not list(tmp_path.glob("out*"))


RECORDING_CASES: dict[str, tuple[Callable[[], bytes], int, str]] = {
    "silence": (lambda: wav_bytes(np.zeros(3 * RATE_HZ, np.float32)), 65, "silent"),
    "a-photo": (cat_jpeg, 65, "audio"),
    "video-without-sound": (audio.video_without_sound, 65, "audio"),
    "empty": (lambda: b"", 65, "audio"),
}


@pytest.mark.parametrize("case", list(RECORDING_CASES))
def test_a_bad_recording_is_refused(tmp_path: Path, case: str) -> None:
    make, code, words = RECORDING_CASES[case]
    (tmp_path / "recording.bin").write_bytes(make())
    done = run("transcribe", "recording.bin", cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert words in done.stderr.lower() and "recording.bin" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_missing_recording_is_named(tmp_path: Path) -> None:
    done = run("transcribe", "nowhere.wav", cwd=tmp_path)
    assert done.returncode == 65, done.stderr
    assert "nowhere.wav" in done.stderr and "Traceback" not in done.stderr
