"""Mouth tracks from phoneme timings: closures, silences, vowel sizes, timing, streaming."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from neura.lipsync import energy_mouth_track, mouth_track, stream_guard_s
from neura.media import MOUTH_CHANNELS, PhonemeAlphabet, PhonemeSpan
from tests.lipsync.piper_sample import SENTENCE_1, SENTENCE_2, duration_s, spans

OPEN, SPREAD, ROUND, CLOSE, TONGUE = range(5)
FPS = 25


def frame_at(t_s: float, fps: float = FPS) -> int:
    return round(t_s * fps)


def test_p_closure_then_vowel_timing() -> None:
    """'p' closed 1.00-1.08 s, then 'a' to 1.30 s: the frame at 1.04 s is closed, frames inside
    the vowel are open, and the mouth starts opening within one frame of 1.08 s."""
    track = mouth_track([PhonemeSpan("p", 1.00, 1.08), PhonemeSpan("a", 1.08, 1.30)], "ipa", n_frames=50)
    v = track.values
    closed = v[frame_at(1.04)]
    assert closed[CLOSE] > 0.99 and closed[OPEN] < 0.01
    for t_s in (1.12, 1.16, 1.20, 1.24):
        assert v[frame_at(t_s), OPEN] > 0.5, t_s
    onset_s = next(i for i in range(len(v)) if v[i, OPEN] > 0.2) / FPS
    assert abs(onset_s - 1.08) <= 1 / FPS + 1e-9
    assert v[: frame_at(0.9), OPEN].max() < 0.01 and v[frame_at(1.45) :, OPEN].max() < 0.01


@pytest.mark.parametrize("fps", [24.0, 25.0, 30.0])
@pytest.mark.parametrize("closure_s", [0.04, 0.05, 0.08])
def test_every_bilabial_closure_shows_a_closed_frame(fps: float, closure_s: float) -> None:
    rng = random.Random(int(fps * 1000 + closure_s * 1e4))
    for _ in range(20):
        t = rng.uniform(0.3, 0.5)
        phonemes = [PhonemeSpan("a", t - 0.15, t)]
        consonant = rng.choice(["p", "b", "m"])
        phonemes += [PhonemeSpan(consonant, t, t + closure_s), PhonemeSpan("i", t + closure_s, t + closure_s + 0.15)]
        v = mouth_track(phonemes, "ipa", fps=fps, n_frames=int(fps)).values
        inside = [i for i in range(len(v)) if t - 0.5 / fps <= (i + 0.5) / fps <= t + closure_s + 0.5 / fps]
        assert any(v[i, CLOSE] > 0.99 and v[i, OPEN] < 0.01 for i in inside), (consonant, t)


def test_closed_in_long_silences_and_at_both_ends() -> None:
    phonemes = [
        PhonemeSpan("a", 0.40, 0.70),
        PhonemeSpan(",", 0.70, 0.85),  # a 150 ms pause
        PhonemeSpan("a", 0.85, 1.20),
        PhonemeSpan(".", 1.20, 1.70),  # a 500 ms pause
        PhonemeSpan("a", 1.70, 2.00),
    ]
    v = mouth_track(phonemes, "ipa", n_frames=60).values
    assert v[0, OPEN] < 0.05 and v[-1, OPEN] < 0.05
    assert v[frame_at(0.70) : frame_at(0.85) + 1, OPEN].min() < 0.05
    long_pause = v[frame_at(1.28) : frame_at(1.62) + 1, OPEN]
    assert long_pause.max() < 0.05
    assert v[frame_at(0.5), OPEN] > 0.9 and v[frame_at(1.0), OPEN] > 0.9


def test_word_boundaries_do_not_close_the_mouth() -> None:
    """Piper marks every word boundary with a short ' ' span: the mouth keeps moving through it."""
    phonemes = [PhonemeSpan("a", 0.2, 0.4), PhonemeSpan(" ", 0.4, 0.44), PhonemeSpan("a", 0.44, 0.7)]
    v = mouth_track(phonemes, "ipa", n_frames=25).values
    assert v[frame_at(0.4) : frame_at(0.44) + 1, OPEN].min() > 0.5


def test_opening_reflects_the_vowel() -> None:
    peaks = {}
    for vowel in ("ɑ", "ɛ", "ɪ", "u"):
        phonemes = [PhonemeSpan("t", 0.40, 0.46), PhonemeSpan(vowel, 0.46, 0.70), PhonemeSpan("t", 0.70, 0.76)]
        peaks[vowel] = float(mouth_track(phonemes, "ipa", n_frames=30).values[:, OPEN].max())
    assert peaks["ɑ"] > peaks["ɛ"] > peaks["ɪ"] > peaks["u"] > 0.2


def test_rounding_and_spreading() -> None:
    v = mouth_track([PhonemeSpan("u", 0.2, 0.5), PhonemeSpan("i", 0.7, 1.0)], "ipa", n_frames=30).values
    assert v[frame_at(0.36), ROUND] > 0.9 and v[frame_at(0.36), SPREAD] < 0.1
    assert v[frame_at(0.84), SPREAD] > 0.5 and v[frame_at(0.84), ROUND] < 0.1


def test_tongue_tip_rises_for_th_and_l_only() -> None:
    phones = [("ð", 0.2, 0.35), ("a", 0.35, 0.6), ("l", 0.6, 0.75), ("u", 0.75, 1.0)]
    v = mouth_track([PhonemeSpan(*p) for p in phones], "ipa", n_frames=30).values
    assert v[frame_at(0.28), TONGUE] > 0.8 and v[frame_at(0.68), TONGUE] > 0.5
    assert v[frame_at(0.48), TONGUE] < 0.2 and v[frame_at(0.9), TONGUE] < 0.1


def test_anticipation_is_short() -> None:
    """The mouth may start opening shortly before a vowel, not 100 ms before it."""
    v = mouth_track([PhonemeSpan("a", 1.0, 1.3)], "ipa", n_frames=40).values
    assert v[frame_at(0.88), OPEN] < 0.01
    assert 0.0 < v[frame_at(0.96), OPEN] < 0.2


def test_arpabet_track() -> None:
    phones = [("SIL", 0.0, 0.3), ("B", 0.3, 0.36), ("AA1", 0.36, 0.6), ("M", 0.6, 0.68), ("SIL", 0.68, 1.2)]
    v = mouth_track([PhonemeSpan(*p) for p in phones], "arpabet", n_frames=30).values
    assert v[frame_at(0.32), CLOSE] == 1.0 and v[frame_at(0.64), CLOSE] == 1.0
    assert v[frame_at(0.48), OPEN] > 0.9 and v[frame_at(1.0), OPEN] < 0.01


def test_real_piper_sentence() -> None:
    phonemes = spans(SENTENCE_1)
    n_frames = math.ceil(duration_s(SENTENCE_1) * FPS)
    v = mouth_track(phonemes, "ipa", n_frames=n_frames).values
    assert v.shape == (n_frames, MOUTH_CHANNELS) and v.dtype == np.float32
    assert v[0, OPEN] < 0.05 and v[-1, OPEN] < 0.05
    for p in phonemes:
        if p.phoneme in "pbm":
            frames = range(frame_at(p.start_s - 0.02), frame_at(p.end_s + 0.02) + 1)
            assert any(v[i, CLOSE] == 1.0 for i in frames), p
    assert v[:, OPEN].max() > 0.8


def test_offset_moves_the_mouth_by_whole_frames() -> None:
    phonemes = spans(SENTENCE_1, start_s=0.3)
    base = mouth_track(phonemes, "ipa", n_frames=100).values
    early = mouth_track(phonemes, "ipa", n_frames=100, offset_s=-2 / FPS).values
    np.testing.assert_allclose(early[:-2], base[2:], atol=1e-5)


def test_sentence_by_sentence_equals_the_whole_timeline() -> None:
    """Each sentence with silence at its edges, computed alone on its own clock, gives the same
    frames as the whole timeline computed at once."""
    lead_s = stream_guard_s(FPS) + 0.02
    pieces, whole_phonemes, start_frame = [], [], 0
    for alignment in (SENTENCE_1, SENTENCE_2, SENTENCE_1):
        n_frames = math.ceil((lead_s + duration_s(alignment) + 0.3) * FPS)
        local = spans(alignment, start_s=lead_s)
        pieces.append(mouth_track(local, "ipa", n_frames=n_frames).values)
        whole_phonemes += spans(alignment, start_s=start_frame / FPS + lead_s)
        start_frame += n_frames
    whole = mouth_track(whole_phonemes, "ipa", n_frames=start_frame).values
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-5)
    assert whole[:, OPEN].max() > 0.8  # not trivially equal


def test_a_chunk_can_start_anywhere_on_the_frame_grid() -> None:
    phonemes = spans(SENTENCE_2, start_s=0.5)
    whole = mouth_track(phonemes, "ipa", n_frames=40).values
    second_half = mouth_track(phonemes, "ipa", start_s=20 / FPS, n_frames=20).values
    np.testing.assert_allclose(second_half, whole[20:], atol=1e-5)


def test_degenerate_input_never_crashes() -> None:
    assert mouth_track([], "ipa", n_frames=0).values.shape == (0, MOUTH_CHANNELS)
    silent = mouth_track([], "ipa", n_frames=10).values
    assert silent.shape == (10, MOUTH_CHANNELS) and not silent.any()
    rng = random.Random(3)
    alphabets: tuple[PhonemeAlphabet, ...] = ("ipa", "arpabet")
    symbols = ["a", "p", "ˈ", "ː", " ", "?", "Ж", "", "aɪ", "\u0329", "tʃ", "SIL", "AA1"]
    for _ in range(50):
        phonemes = []
        for _ in range(rng.randrange(0, 12)):
            start = rng.uniform(-0.5, 2.0)
            phonemes.append(PhonemeSpan(rng.choice(symbols), start, start + rng.uniform(-0.05, 0.3)))
        for alphabet in alphabets:
            v = mouth_track(phonemes, alphabet, n_frames=50).values
            assert np.isfinite(v).all() and v.min() >= 0.0 and v.max() <= 1.0


def test_energy_fallback_follows_loudness() -> None:
    rate = 16000
    t = np.arange(2 * rate) / rate
    samples = np.zeros_like(t, dtype=np.float32)
    loud = (t >= 0.5) & (t < 1.0)
    samples[loud] = 0.5 * np.sin(2 * np.pi * 220 * t[loud])
    quiet = (t >= 1.4) & (t < 1.7)
    samples[quiet] = 0.03 * np.sin(2 * np.pi * 220 * t[quiet])
    v = energy_mouth_track(samples, rate, FPS, 50).values
    assert v[frame_at(0.2), OPEN] == 0.0 and v[frame_at(1.9), OPEN] == 0.0
    assert v[frame_at(0.75), OPEN] > 0.8
    assert 0.1 < v[frame_at(1.55), OPEN] < v[frame_at(0.75), OPEN]
    half = energy_mouth_track(samples[rate:], rate, FPS, 25).values  # the second second on its own
    np.testing.assert_allclose(half[2:], v[27:], atol=1e-6)
