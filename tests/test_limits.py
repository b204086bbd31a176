"""The limits a user meets are stated where they look, and agree with the code: the README, ``--help``
(the OpenAPI side is in tests/platform/test_docs.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from neura import limits
from neura.config import Settings

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_the_readme_states_the_limits_of_the_code() -> None:
    text = " ".join(README.split())  # line breaks do not matter
    photo = f"{limits.megabytes(limits.PHOTO_MAX_BYTES)} and {limits.PHOTO_MAX_PIXELS // 10**6} megapixels"
    upload_default = Settings.model_fields["max_upload_bytes"].default
    for stated in (
        f"a script holds at most {limits.SCRIPT_MAX_CHARS:,} characters of narration in {limits.SCRIPT_MAX_SCENES} "
        "scenes",
        f"a prompt at most {limits.PROMPT_MAX_CHARS:,} characters",
        f"lasts {limits.DURATION_MIN_S:g} to {limits.DURATION_MAX_S:g} s (`--duration`, default "
        f"{limits.DURATION_DEFAULT_S:g} s)",
        f"a photo is at most {photo}",
        f"`MAX_UPLOAD_BYTES`, {limits.megabytes(upload_default)} by default",
    ):
        assert stated in text, stated
    for p in limits.PLANS.values():
        row = (
            f"| {p.name} | {p.monthly_credits:,} | {p.max_video_s} s | {p.concurrent_jobs} | {p.live_minutes} | "
            f"{p.concurrent_live_sessions} |"
        )
        assert row in README, row


def test_render_help_states_the_limits(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "300"}
    done = subprocess.run(
        [sys.executable, "-m", "neura.cli", "render", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    text = " ".join(done.stdout.split())
    assert f"at most {limits.PROMPT_MAX_CHARS:,} characters" in text
    assert f"At most {limits.SCRIPT_MAX_CHARS:,} characters of narration in {limits.SCRIPT_MAX_SCENES} scenes" in text
    assert f"default: {limits.DURATION_DEFAULT_S}" in text and "5.0<=x<=600.0" in text
    assert f"at most {limits.megabytes(limits.PHOTO_MAX_BYTES)}" in text
    assert "720p layout (not 512)" in text


def test_the_cli_and_the_api_share_the_default_duration() -> None:
    from neura.gateway.schemas.videos import VideoCreate
    from neura.pipeline import RenderRequest
    from neura.tts.voices import VoiceRef

    spec = VideoCreate(prompt="tides").spec(VoiceRef.parse("piper"))
    assert spec.duration_s == RenderRequest(output_path=Path("x.mp4")).duration_s == limits.DURATION_DEFAULT_S
