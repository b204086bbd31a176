"""Bad input gets a clear, typed error and leaves nothing behind."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neura.config import Settings
from neura.errors import (
    CancelledError,
    ImageError,
    LLMUnavailableError,
    NoFaceError,
    OutputError,
    ScriptError,
)
from neura.pipeline import CancelToken, RenderRequest, render_video

from .conftest import SHORT_SCRIPT, files_in


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def test_photo_without_a_face_is_refused_and_nothing_is_written(tmp_path: Path, settings: Settings) -> None:
    from skimage import data

    cat = tmp_path / "cat.png"
    cat.write_bytes(_png(data.chelsea()))
    with pytest.raises(NoFaceError):
        render_video(RenderRequest(tmp_path / "out.mp4", script_text=SHORT_SCRIPT, avatar=cat), settings)
    assert files_in(tmp_path) == ["cat.png"]


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF89a" + b"\x00" * 64],
    ids=["empty", "text", "truncated-png", "gif"],
)
def test_unusable_image_files_are_refused(tmp_path: Path, settings: Settings, content: bytes) -> None:
    photo = tmp_path / "me.jpg"
    photo.write_bytes(content)
    with pytest.raises(ImageError):
        render_video(RenderRequest(tmp_path / "out.mp4", script_text=SHORT_SCRIPT, avatar=photo), settings)
    assert not (tmp_path / "out.mp4").exists()


def test_missing_avatar_file(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(ImageError, match="not found"):
        render_video(
            RenderRequest(tmp_path / "o.mp4", script_text=SHORT_SCRIPT, avatar=tmp_path / "nope.jpg"),
            settings,
        )


@pytest.mark.parametrize("text", ["", "   \n\n  "], ids=["empty", "blank"])
def test_empty_script(tmp_path: Path, settings: Settings, text: str) -> None:
    with pytest.raises(ScriptError):
        render_video(RenderRequest(tmp_path / "out.mp4", script_text=text), settings)
    assert files_in(tmp_path) == []


def test_huge_script(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(ScriptError):
        render_video(RenderRequest(tmp_path / "out.mp4", script_text="Words and more words. " * 20_000), settings)
    assert files_in(tmp_path) == []


def test_output_folder_missing(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        render_video(RenderRequest(tmp_path / "no" / "such" / "out.mp4", script_text=SHORT_SCRIPT), settings)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_output_folder_unwritable(tmp_path: Path, settings: Settings) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(OutputError):
        render_video(RenderRequest(locked / "out.mp4", script_text=SHORT_SCRIPT), settings)


def test_output_must_be_mp4(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(OutputError, match=r"\.mp4"):
        render_video(RenderRequest(tmp_path / "out.avi", script_text=SHORT_SCRIPT), settings)


def test_unreachable_llm_names_the_url_and_the_fixes(tmp_path: Path, unused_tcp_port: int) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/v1"
    settings = Settings(LMSTUDIO_BASE_URL=url, LLM_PROVIDER="lmstudio", NEURA_CACHE_DIR=tmp_path / "c")  # type: ignore[call-arg]
    with pytest.raises(LLMUnavailableError) as caught:
        render_video(RenderRequest(tmp_path / "out.mp4", prompt="Explain tides", duration_s=20), settings)
    message = str(caught.value)
    assert url in message and "give the script yourself" in message and caught.value.fields == {"script": None}
    assert not (tmp_path / "out.mp4").exists()


def test_cancel_leaves_no_partial_file(tmp_path: Path, settings: Settings) -> None:
    cancel = CancelToken()
    seen: list[str] = []

    def progress(stage: str, fraction: float, message: str = "") -> None:
        seen.append(stage)
        if stage == "render" and fraction > 0.2:
            cancel.cancel()

    with pytest.raises(CancelledError):
        render_video(
            RenderRequest(tmp_path / "out.mp4", script_text=SHORT_SCRIPT, resolution="512"),
            settings,
            progress=progress,
            cancel=cancel,
        )
    assert "render" in seen
    assert files_in(tmp_path) == []


def test_a_photo_with_two_faces_uses_the_largest_and_says_so(tmp_path: Path, settings: Settings) -> None:
    import cv2
    from skimage import data

    crop = data.astronaut()[30:250, 130:330]
    small = cv2.resize(crop, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    group = np.full((220, 360, 3), 200, np.uint8)
    group[:, :200] = crop
    group[30 : 30 + small.shape[0], 205 : 205 + small.shape[1]] = small
    photo = tmp_path / "two.png"
    photo.write_bytes(_png(group))
    result = render_video(
        RenderRequest(tmp_path / "two.mp4", script_text="Hi.", avatar=photo, resolution="512"), settings
    )
    assert any("largest" in w for w in result.warnings), result.warnings
