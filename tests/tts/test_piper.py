"""Piper specifics: the patched model, determinism across runs and processes, timing accuracy."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neura.tts import align_words
from neura.tts.piper import PiperEngine, bundled_voice_paths
from neura.tts.piper_model import make_noise_deterministic, patched_model

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."


def test_model_is_patched_once_into_the_cache(piper: PiperEngine, tts_cache_dir: Path) -> None:
    model, _ = bundled_voice_paths()
    patched = patched_model(model, tts_cache_dir)
    assert patched.parent == tts_cache_dir / "piper" and patched.is_file()
    modified_ns = patched.stat().st_mtime_ns
    assert patched_model(model, tts_cache_dir) == patched
    assert patched.stat().st_mtime_ns == modified_ns


def test_random_nodes_are_replaced_by_fixed_noise() -> None:
    import onnx

    model = onnx.load(str(bundled_voice_paths()[0]))
    assert make_noise_deterministic(model) == 2  # the duration predictor's and the flow's noise
    assert not [n for n in model.graph.node if n.op_type.startswith("Random")]


def _digest(samples: np.ndarray) -> str:
    return hashlib.sha256(samples.tobytes()).hexdigest()


def test_bit_identical_in_another_process(piper: PiperEngine, tts_cache_dir: Path) -> None:
    (chunk,) = piper.synthesize(SENTENCE)
    script = (
        "import hashlib, sys; from pathlib import Path; from neura.tts.piper import PiperEngine; "
        "(c,) = PiperEngine(cache_dir=Path(sys.argv[1])).synthesize(sys.argv[2]); "
        "print(hashlib.sha256(c.samples.tobytes()).hexdigest())"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    environment = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-c", script, str(tts_cache_dir), SENTENCE],
        capture_output=True, text=True, timeout=120, env=environment, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == _digest(chunk.samples)


def test_two_threads_give_the_same_samples(piper: PiperEngine, tts_cache_dir: Path) -> None:
    two = PiperEngine(cache_dir=tts_cache_dir, threads=2)
    text = "Two threads, same voice."
    assert np.array_equal(next(iter(piper.synthesize(text))).samples, next(iter(two.synthesize(text))).samples)


def test_word_times_agree_with_forced_alignment(piper: PiperEngine) -> None:
    (chunk,) = piper.synthesize(SENTENCE)
    aligned, phones = align_words(chunk.samples, chunk.sample_rate_hz, chunk.text)
    assert [w.word for w in aligned] == [w.word for w in chunk.words]
    differences_s = [ours.start_s - theirs.start_s for ours, theirs in zip(chunk.words, aligned, strict=True)]
    assert max(abs(d) for d in differences_s[1:]) < 0.1, differences_s  # the first word: see bench/tts_offset.py
    assert abs(float(np.median(differences_s[1:]))) < 0.04
    assert phones[-1].end_s == pytest.approx(chunk.duration_s)


def test_first_sentence_is_ready_before_the_rest(piper: PiperEngine) -> None:
    text = "One. " + " ".join(["This second sentence is much longer than the first one."] * 3)
    chunks = piper.synthesize(text)
    first = next(iter(chunks))
    assert first.text == "One." and first.duration_s < 1.5
