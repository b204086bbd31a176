"""48 kHz WebRTC and 8 kHz telephone audio to 16 kHz, piece by piece, like the whole at once."""

from __future__ import annotations

import numpy as np
import pytest

from neura.encode.audio import resample
from neura.stt.resample import StreamResampler


def _tone(rate_hz: int, seconds: float, freq_hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    return (0.5 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


@pytest.mark.parametrize(("rate_hz", "piece"), [(48000, 960), (8000, 160), (16000, 320), (44100, 441)])
def test_a_stream_resampled_in_pieces_equals_the_whole(rate_hz: int, piece: int) -> None:
    audio = _tone(rate_hz, 2.0)
    resampler = StreamResampler(rate_hz)
    pieces = [resampler.push(audio[i : i + piece]) for i in range(0, audio.size, piece)]
    streamed = np.concatenate([*pieces, resampler.flush()])
    whole = resample(audio, rate_hz, 16000)
    assert abs(streamed.size - 32000) <= 2 and abs(whole.size - streamed.size) <= 2
    n = min(streamed.size, whole.size)
    assert np.max(np.abs(streamed[:n] - whole[:n])) < 1e-3
    spectrum = np.abs(np.fft.rfft(streamed[1000:17000]))
    assert abs(np.argmax(spectrum) * 16000 / 16000 - 440) <= 2  # the tone is still 440 Hz
