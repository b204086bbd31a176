"""Noise suppression before recognition: steady noise goes down, speech stays, clean audio is untouched."""

from __future__ import annotations

import numpy as np

from neura.stt.denoise import (
    STEADY_SPREAD_DB,
    background_spread_db,
    denoised,
    needs_suppression,
    noise_floor_db,
    suppress_noise,
)
from tests.stt.samples import RATE_HZ, SENTENCES, spoken, with_babble, with_noise


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


def _pink(size: int, seed: int = 2) -> np.ndarray:
    spectrum = np.fft.rfft(np.random.default_rng(seed).normal(0.0, 1.0, size))
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(size, 1 / RATE_HZ), 20.0))
    return np.fft.irfft(spectrum, size)


def _babble() -> np.ndarray:
    """The espeak voice over four others talking at 10 dB (the Piper voice's and espeak's other sentences)."""
    talkers = [spoken(v, SENTENCES[i]).samples for v in ("piper", "espeak") for i in (0, 2)]
    return with_babble(spoken("espeak", SENTENCES[1]).samples, talkers, 10.0)


def test_steady_noise_is_told_from_other_people_talking() -> None:
    voice = spoken("espeak", SENTENCES[1]).samples
    white = with_noise(voice, 10.0)
    pink = voice + _pink(voice.size) * np.sqrt(
        np.mean(voice[np.abs(voice) > 1e-4] ** 2) / 10 / np.mean(_pink(voice.size) ** 2)
    )
    babble = _babble()
    for steady in (white, pink.astype(np.float32)):
        assert background_spread_db(steady) < STEADY_SPREAD_DB / 2  # type: ignore[operator]
        assert needs_suppression(steady)
    assert background_spread_db(babble) > STEADY_SPREAD_DB * 1.5  # type: ignore[operator]
    assert not needs_suppression(babble)
    assert background_spread_db(voice[: RATE_HZ // 2]) is None  # too short to tell


def test_background_talk_goes_to_recognition_untouched() -> None:
    babble = _babble()
    for denoiser in ("spectral", "deepfilter"):
        assert np.array_equal(denoised(babble, denoiser), babble)
    white = with_noise(spoken("espeak", SENTENCES[1]).samples, 10.0)
    assert not np.array_equal(denoised(white, "spectral"), white)  # steady noise still goes through
