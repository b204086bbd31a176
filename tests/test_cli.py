"""The command line as a user runs it: real processes, exit codes and messages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

NEURA = [sys.executable, "-m", "neura.cli"]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NEURA_CACHE_DIR": str(cwd / ".cache"), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [*NEURA, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300, check=False
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    done = run("--help", cwd=tmp_path)
    assert done.returncode == 0
    for command in ("render", "voices", "licenses"):
        assert command in done.stdout


def test_render_help_explains_the_options(tmp_path: Path) -> None:
    done = run("render", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for option in ("--prompt", "--script", "--avatar", "--duration", "--output", "--captions"):
        assert option in done.stdout


def test_render_a_script_to_mp4(tmp_path: Path) -> None:
    (tmp_path / "script.txt").write_text("Hello from the command line.\n")
    done = run("render", "--script", "script.txt", "-o", "out.mp4", "-r", "512", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.mp4").stat().st_size > 10_000
    assert "out.mp4" in done.stdout


def test_licenses_are_visible(tmp_path: Path) -> None:
    done = run("licenses", cwd=tmp_path)
    assert done.returncode == 0
    assert "GPL-3.0-or-later" in done.stdout and "Apache-2.0" in done.stdout


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--script", "missing.txt"], 65, "not found"),
        (["--avatar", "cat.png", "--script", "script.txt"], 65, "no face"),
        (["--script", "script.txt", "-o", "nowhere/out.mp4"], 73, "does not exist"),
        (["--prompt", "Explain tides", "--llm", "lmstudio"], 69, "--script"),
        (["--prompt", "a", "--script", "script.txt"], 2, "not both"),
        (["--prompt", ""], 65, "the prompt is empty"),
        (["--script", "script.txt", "--seed", "-1"], 2, "--seed"),
        (["--script", "script.txt", "-o", "blocked.mp4"], 73, "blocked.json is a folder"),
    ],
    ids=[
        "missing-script",
        "no-face",
        "no-output-dir",
        "llm-down",
        "both",
        "empty-prompt",
        "negative-seed",
        "sidecar-dir",
    ],
)
def test_bad_input_exits_non_zero_with_a_clear_message(
    tmp_path: Path, unused_tcp_port: int, args: list[str], code: int, needle: str
) -> None:
    from PIL import Image
    from skimage import data

    Image.fromarray(data.chelsea()).save(tmp_path / "cat.png")
    (tmp_path / "script.txt").write_text("Hello.\n")
    (tmp_path / "blocked.json").mkdir()
    env = {"LMSTUDIO_BASE_URL": f"http://127.0.0.1:{unused_tcp_port}/v1"}
    done = run("render", *args, "-q", cwd=tmp_path, env=env)
    assert done.returncode == code, done.stderr
    assert needle in done.stderr.lower()
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob(".*.part")) and not list(tmp_path.glob(".*.tmp"))


def test_sigterm_stops_a_render_like_ctrl_c_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "script.txt").write_text("A sentence that takes a while to say. " * 30)
    env = {**os.environ, "NEURA_CACHE_DIR": str(tmp_path / ".cache"), "COLUMNS": "200"}
    render = [*NEURA, "render", "--script", "script.txt", "-o", "out.mp4", "-r", "512", "-q"]
    process = subprocess.Popen(render, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.mp4.*.part")):  # the encoder has started
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the render never started writing"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "no video was written" in stderr and "Traceback" not in stderr
    assert not [p.name for p in tmp_path.iterdir() if p.name not in ("script.txt", ".cache")]


def test_render_with_a_chosen_voice_speaks_with_it(tmp_path: Path) -> None:
    from neura.encode import decode_audio
    from tests.tts.conftest import median_pitch_hz

    (tmp_path / "script.txt").write_text("Hello from a British voice. It speaks clearly.\n")
    done = run(
        "render", "--voice", "espeak:en-gb", "--script", "script.txt", "-o", "gb.mp4", "-r", "512", "-q", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    sidecar = json.loads((tmp_path / "gb.json").read_text())
    assert sidecar["voice"]["id"] == "espeak:en-gb"
    samples, rate = decode_audio(tmp_path / "gb.mp4")
    assert abs(len(samples) / rate - sidecar["output"]["duration_s"]) < 0.1
    words = sidecar["words"]  # [word, start_s, end_s]
    assert [w[0] for w in words][:2] == ["Hello", "from"]
    spoken = samples[int(words[0][1] * rate) : int(words[-1][2] * rate)]
    assert float(np.sqrt(np.mean(spoken**2))) > 0.02  # speech, not silence
    assert median_pitch_hz(spoken, rate) < 140  # espeak-ng's default voice is a man's

    female = run(
        "render", "--tts", "en-us+f3", "--script", "script.txt", "-o", "f3.mp4", "-r", "512", "-q", cwd=tmp_path
    )
    assert female.returncode == 0, female.stderr  # --tts is the older name of --voice; a bare id names its engine
    assert json.loads((tmp_path / "f3.json").read_text())["voice"]["id"] == "espeak:en-us+f3"
    samples, rate = decode_audio(tmp_path / "f3.mp4")
    assert median_pitch_hz(samples, rate) > 160


@pytest.mark.parametrize(
    ("voice", "code", "needle"),
    [
        ("shatner", 65, "there is no voice 'shatner'"),
        ("festival:x", 65, "no tts engine"),
        ("xtts", 69, "xtts_model_dir"),
    ],
)
def test_an_unknown_voice_or_a_missing_engine_is_refused(tmp_path: Path, voice: str, code: int, needle: str) -> None:
    (tmp_path / "script.txt").write_text("Hello.\n")
    done = run("render", "--voice", voice, "--script", "script.txt", "-o", "out.mp4", "-q", cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert needle in done.stderr.lower() and "hint" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.glob("*.mp4"))


def test_render_help_names_the_engines_from_the_tables(tmp_path: Path) -> None:
    from neura.llm import LLM
    from neura.tts import TTS

    done = run("render", "--help", cwd=tmp_path)
    assert "--voice" in done.stdout and "--tts" in done.stdout
    for name in (*TTS.names(), *LLM.names()):
        assert name in done.stdout


def test_voices_shows_whole_ids_at_80_columns(tmp_path: Path) -> None:
    from neura.config import Settings
    from neura.tts import list_voices

    done = run("voices", cwd=tmp_path, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "gender" in lines[0] and "licence" in lines[0]
    voices = list_voices(Settings(_env_file=None))
    assert any(v.gender == "female" for v in voices)
    for voice in voices:
        row = next(line for line in lines if line.startswith(voice.id + " "))
        assert voice.engine in row and voice.language in row and (voice.gender or "?") in row
