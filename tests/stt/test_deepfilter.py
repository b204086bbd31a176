"""The DeepFilterNet3 suppressor (the default before recognition): noise goes down, speech stays and
lines up with the input, clean recordings are not touched, and a noisy question is heard."""

from __future__ import annotations

import numpy as np
import pytest

from neura.stt import STTEngine, TranscribeOptions
from neura.stt.deepfilter import DeepFilter
from neura.stt.denoise import denoised
from neura.stt.scoring import word_error_rate
from tests.stt.samples import RATE_HZ, SENTENCES, spoken, with_noise


@pytest.fixture(scope="module")
def runtime() -> DeepFilter:
    return DeepFilter()


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20))


def _snr_db(clean: np.ndarray, estimate: np.ndarray) -> float:
    return _db(clean) - _db(estimate - clean)


@pytest.mark.parametrize("kind", ["white", "pink"])
def test_noise_goes_down_and_the_speech_stays(kind: str) -> None:
    voice = spoken("espeak", SENTENCES[1])
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 1, voice.samples.size) if kind == "white" else _pink(rng, voice.samples.size)
    noise *= np.sqrt(np.mean(voice.samples**2) / np.mean(noise**2) / 10)  # 10 dB under the whole clip
    noisy = (voice.samples + noise).astype(np.float32)
    cleaned = denoised(noisy, "deepfilter")
    assert cleaned.shape == noisy.shape and cleaned.dtype == np.float32
    pad = round(voice.pad_s * RATE_HZ)
    pause = slice(pad // 4, pad - pad // 4)  # noise only, before the first word
    speech = slice(pad, noisy.size - pad)
    assert _db(cleaned[pause]) < _db(noisy[pause]) - 15  # the noise alone: 15 dB quieter (the limit is 20)
    assert _db(cleaned[speech]) > _db(voice.samples[speech]) - 3  # the speech keeps its loudness
    # the SNR over the speech rises by more than 3 dB (the speech is not only loud but the same speech;
    # measured: white +5.3 dB, pink +4.9 dB; the spectral suppressor +3.7 and +2.5 dB)
    assert _snr_db(voice.samples[speech], cleaned[speech]) > _snr_db(voice.samples[speech], noisy[speech]) + 3


def test_clean_speech_passes_nearly_unchanged_and_in_time(runtime: DeepFilter) -> None:
    clean = spoken("piper", SENTENCES[0]).samples
    assert np.array_equal(denoised(clean, "deepfilter"), clean)  # a quiet recording is left as it is
    filtered = runtime.suppress(clean)  # and the network itself barely changes it
    assert filtered.shape == clean.shape
    assert _snr_db(clean, filtered) > 10
    lags = np.arange(-40, 41)  # no lag: the runtime's 30 ms delay is taken out
    corr = [float(np.dot(clean[100:-100], np.roll(filtered, -lag)[100:-100])) for lag in lags]
    assert lags[int(np.argmax(corr))] == 0


def test_the_same_recording_is_cleaned_the_same_way_whatever_came_before(runtime: DeepFilter) -> None:
    noisy = with_noise(spoken("piper", SENTENCES[2]).samples, 10.0)
    first = runtime.suppress(noisy)
    runtime.suppress(with_noise(spoken("espeak", SENTENCES[0]).samples, 0.0, seed=3))
    again = runtime.suppress(noisy)
    assert _snr_db(first, again) > 15  # nearly: what came before leaves a trace 15 dB down


def test_an_unknown_suppressor_is_refused() -> None:
    with pytest.raises(ValueError, match="deepfilter, spectral"):
        denoised(np.zeros(RATE_HZ * 2, np.float32), "rnnoise")


def test_a_noisy_question_is_heard(engine: STTEngine) -> None:
    clip = spoken("espeak", SENTENCES[1])
    noisy = with_noise(clip.samples, 10.0)
    text = engine.transcribe(noisy, TranscribeOptions(language="en", denoiser="deepfilter")).text
    assert word_error_rate([SENTENCES[1]], [text]) <= 0.2, text


def _pink(rng: np.random.Generator, size: int) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(0, 1, size))
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(size, 1 / RATE_HZ), 20.0))
    return np.fft.irfft(spectrum, size).astype(np.float32)
