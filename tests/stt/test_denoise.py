"""Noise suppression before recognition: steady noise goes down, speech stays, clean audio is untouched."""

from __future__ import annotations

import numpy as np

from neura.stt.denoise import noise_floor_db, suppress_noise
from tests.stt.samples import RATE_HZ, SENTENCES, spoken, with_noise


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20))


def test_clean_speech_is_left_exactly_as_it_was() -> None:
    clean = spoken("piper", SENTENCES[0]).samples
    assert noise_floor_db(clean) is not None and noise_floor_db(clean) > 30  # type: ignore[operator]
    assert np.array_equal(suppress_noise(clean), clean)


def test_steady_noise_goes_down_and_the_speech_stays() -> None:
    voice = spoken("espeak", SENTENCES[1])
    noisy = with_noise(voice.samples, 10.0)
    cleaned = suppress_noise(noisy)
    assert cleaned.shape == noisy.shape and cleaned.dtype == np.float32
    pad = round(voice.pad_s * RATE_HZ)
    pause = slice(pad // 4, pad - pad // 4)  # noise only, before the first word
    speech = slice(pad, noisy.size - pad)
    assert _db(cleaned[pause]) < _db(noisy[pause]) - 5  # the noise alone: more than 5 dB quieter
    assert _db(cleaned[speech]) > _db(voice.samples[speech]) - 3  # the speech keeps its loudness
    # closer to the clean voice than the noisy input was
    assert _db(cleaned[speech] - voice.samples[speech]) < _db(noisy[speech] - voice.samples[speech]) - 3


def test_a_short_clip_is_not_touched() -> None:
    voice = spoken("piper", SENTENCES[2])
    pad = round(voice.pad_s * RATE_HZ)
    short = with_noise(voice.samples[pad : pad + RATE_HZ // 2], 10.0)
    assert noise_floor_db(short) is None
    assert np.array_equal(suppress_noise(short), short)
