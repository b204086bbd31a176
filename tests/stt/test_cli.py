"""``neura transcribe`` as a user runs it: a real process, its output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from neura.stt.scoring import word_error_rate
from tests.stt.samples import RATE_HZ, SENTENCES, spoken, wav_bytes
from tests.test_cli import run


def test_transcribe_prints_the_transcript_and_json_with_word_timings(tmp_path: Path) -> None:
    clip = spoken("piper", SENTENCES[2])
    (tmp_path / "speech.wav").write_bytes(wav_bytes(clip.samples))
    done = run("transcribe", "speech.wav", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert word_error_rate([SENTENCES[2]], [done.stdout]) <= 0.1, done.stdout
    done = run("transcribe", "speech.wav", "--json", "--language", "en", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["language"] == "en" and body["model"] == "base"
    assert body["duration_s"] == round(clip.samples.size / RATE_HZ, 3)
    assert [w["word"] for w in body["words"]][:3] == ["The", "train", "to"]
    assert all(0 <= w["start_s"] <= w["end_s"] <= body["duration_s"] for w in body["words"])


def test_unusable_input_exits_65_and_a_missing_engine_69(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a recording " * 40)
    (tmp_path / "quiet.wav").write_bytes(wav_bytes(np.zeros(RATE_HZ, np.float32)))
    for args, words in (
        (("notes.txt",), "not audio"),
        (("quiet.wav",), "silent"),
        (("absent.wav",), "no such file"),
        (("notes.txt", "--model", "whisper-huge"), "no speech recognition model"),
    ):
        done = run("transcribe", *args, cwd=tmp_path)
        assert done.returncode == 65, (args, done.stderr)
        assert words in done.stderr and not done.stdout
    broken = tmp_path / "models" / "broken"
    broken.mkdir(parents=True)
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (broken / name).write_text("{}")
    done = run("transcribe", "notes.txt", "-m", "broken", cwd=tmp_path, env={"STT_MODEL_DIR": str(tmp_path / "models")})
    assert done.returncode == 69 and "cannot be loaded" in done.stderr
