"""``neura live``: the command-line client talks to the real gateway over WebRTC, prints the answer and
saves it as an MP4 that decodes to the avatar's voice and a moving mouth."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from neura.encode import decode_audio, decode_frames, probe
from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.analysis import measure_faces
from tests.live.conftest import REPLY_SHORT, set_account
from tests.live.peer_client import VideoFrameInfo
from tests.platform.users import TestUser as Account

NEURA = str(Path(sys.executable).with_name("neura"))


@pytest.fixture
async def api_key(live_gateway: str, user: Account, database_url: str) -> str:
    await set_account(database_url, user, plan="pro")
    async with httpx.AsyncClient(base_url=live_gateway, timeout=30) as http:
        created = await http.post("/v1/api-keys", json={"name": "neura live"}, headers=user.headers)
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def run_live(live_gateway: str, *args: str, api_key: str = "") -> subprocess.CompletedProcess[str]:
    command = [NEURA, "live", "--url", live_gateway, "--host-address", "127.0.0.1", *args]
    env = {"NEURA_API_KEY": api_key, "COLUMNS": "200", "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


async def test_the_answer_is_printed_and_saved_as_a_talking_video(
    live_gateway: str, api_key: str, openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.behaviour.replies = [REPLY_SHORT]
    output = tmp_path / "reply.mp4"
    result = run_live(live_gateway, "--say", "Tell me about the ocean.", "-o", str(output), api_key=api_key)
    assert result.returncode == 0, result.stderr
    assert f"avatar: {REPLY_SHORT}" in result.stdout
    assert "first frame sent" in result.stdout and "speaking" in result.stderr

    info = probe(output)
    assert info.video_codec == "h264" and info.audio_codec == "aac" and info.fps == 25
    assert info.video_duration_s > 2.0 and abs(info.video_duration_s - info.audio_duration_s) <= 0.05
    samples, rate_hz = decode_audio(output)
    window = rate_hz // 10
    loudness = [float(np.sqrt(np.mean(samples[i : i + window] ** 2))) for i in range(0, len(samples) - window, window)]
    assert max(loudness) > 0.03, "no voice in the saved answer"
    frames = [VideoFrameInfo(t, i, image) for i, (t, image) in enumerate(decode_frames(output))]
    mouths = [m.mouth for m in measure_faces(frames)]
    assert max(mouths) > 0.12 and min(mouths) < 0.04, "the mouth does not move in the saved answer"
    assert not list(tmp_path.glob(".*")), "a temporary file was left behind"


def test_a_wrong_key_is_refused_with_a_clear_message(live_gateway: str) -> None:
    result = run_live(live_gateway, "--say", "Hello", api_key="nk_not-a-real-key")
    assert result.returncode == 77, result.stderr
    assert "HTTP 401" in result.stderr and "opening a live session" in result.stderr


def test_without_a_key_the_usage_is_explained(live_gateway: str) -> None:
    result = run_live(live_gateway, "--say", "Hello")
    assert result.returncode == 2 and "API key" in result.stderr  # bad usage, like every command


def test_an_unreachable_gateway_says_where_it_looked() -> None:
    result = run_live("http://127.0.0.1:9", "--say", "Hello", api_key="nk_x")
    assert result.returncode == 69, result.stderr
    assert "cannot reach the NEURA gateway at http://127.0.0.1:9" in result.stderr
