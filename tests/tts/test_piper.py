"""Piper specifics: the patched model, determinism across runs and processes, timing accuracy."""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neura.tts import align_words
from neura.tts.piper import (
    DECODER_NODE,
    PEAK_LEVEL,
    STREAM_HEAD_FRAMES,
    STREAM_MIN_REST_FRAMES,
    STREAM_PIECE_FRAMES,
    PiperEngine,
    bundled_voice_paths,
    split_at_decoder,
    stream_slices,
)
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


def test_streaming_yields_the_opening_first_and_the_rest_joins_it_exactly(piper: PiperEngine) -> None:
    """The graph cut at the decoder: the opening's frames and the slices after it (each decoded with
    context) sound exactly as the whole sentence does, up to the opening's own peak gain (and the soft
    limit above it)."""
    text = "The main difference between these two approaches is cost."
    (whole,) = piper.synthesize(text)
    parts = list(piper.synthesize_streaming(text))
    assert len(parts) >= 3 and [p.continues for p in parts] == [True] * (len(parts) - 1) + [False]
    assert {p.text for p in parts} == {text}
    head = parts[0]
    assert head.samples.size == STREAM_HEAD_FRAMES * 256
    joined = np.concatenate([p.samples for p in parts])
    assert joined.size == whole.samples.size
    gain = np.max(np.abs(whole.samples[: head.samples.size])) / np.max(np.abs(head.samples))
    unlimited = np.abs(joined) < PEAK_LEVEL  # the soft limit bends only what the opening's gain lifts past it
    assert np.allclose(joined[unlimited] * gain, whole.samples[unlimited], atol=1e-4)
    assert head.phonemes == whole.phonemes and head.words == whole.words  # the whole timing comes first
    shift = sum(p.duration_s for p in parts[:-1])
    assert [round(w.start_s + shift, 6) for w in parts[-1].words] == [round(w.start_s, 6) for w in whole.words]


def test_stream_slices_cover_every_frame_once() -> None:
    head, piece, least = STREAM_HEAD_FRAMES, STREAM_PIECE_FRAMES, STREAM_MIN_REST_FRAMES
    assert stream_slices(head + least) == [(0, head), (head, head + least)]
    too_few = head + piece + least - 1  # a slice of `piece` would leave fewer than `least` frames after it
    assert stream_slices(too_few) == [(0, head), (head, too_few)]
    assert stream_slices(too_few + 1) == [(0, head), (head, head + piece), (head + piece, too_few + 1)]
    for frames in range(head + least, 600, 7):
        slices = stream_slices(frames)
        assert slices[0] == (0, head) and slices[-1][1] == frames
        assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))
        assert all(b - a >= least for a, b in slices)


def test_a_short_sentence_is_not_cut(piper: PiperEngine) -> None:
    (chunk,) = piper.synthesize_streaming("Sure,")
    assert not chunk.continues
    assert np.array_equal(chunk.samples, next(iter(piper.synthesize("Sure,"))).samples)


def test_a_graph_without_the_decoder_node_is_not_cut(tts_cache_dir: Path, tmp_path: Path) -> None:
    import onnx

    model_path = patched_model(bundled_voice_paths()[0], tts_cache_dir)
    model = onnx.load(str(model_path))
    next(n for n in model.graph.node if n.name == DECODER_NODE).name = "renamed"
    other = tmp_path / "other.onnx"
    onnx.save(model, str(other))
    assert split_at_decoder(other) is None
    assert split_at_decoder(model_path) is not None


def test_the_cut_is_made_once_and_kept_beside_the_patched_voice(
    piper: PiperEngine, tts_cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neura.tts.piper as piper_module

    model_path = patched_model(bundled_voice_paths()[0], tts_cache_dir)
    split = split_at_decoder(model_path)  # the engine's load made it
    assert split is not None and split.encoder.parent == model_path.parent and split.decoder.is_file()
    made = split.encoder.stat().st_mtime_ns

    def cut(*_: object) -> str:
        raise AssertionError("cut again although the parts are in the cache")

    monkeypatch.setattr(piper_module, "_cut", cut)
    assert split_at_decoder(model_path) == split and split.encoder.stat().st_mtime_ns == made
    # a copy whose parts are not there yet is cut; a failed cut costs only streaming, and is retried
    copy = tmp_path / model_path.name
    copy.write_bytes(model_path.read_bytes())
    assert split_at_decoder(copy) is None
    monkeypatch.undo()
    fresh = split_at_decoder(copy)
    assert fresh is not None and fresh.encoder.parent == tmp_path and fresh.latent == split.latent
    assert fresh.decoder.read_bytes() == split.decoder.read_bytes()


def test_a_damaged_cached_part_costs_only_streaming_and_is_cut_again(tts_cache_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    PiperEngine(cache_dir=cache)
    model_path = patched_model(bundled_voice_paths()[0], cache)
    split = split_at_decoder(model_path)
    assert split is not None
    split.decoder.write_bytes(b"not a model")
    whole = PiperEngine(cache_dir=cache)  # loads, runs the graph whole
    (chunk,) = whole.synthesize_streaming(SENTENCE)
    assert not chunk.continues and chunk.samples.size > 0
    again = PiperEngine(cache_dir=cache)  # the next load cut it again: it streams
    assert len(list(again.synthesize_streaming(SENTENCE))) > 1
