"""Steady background noise taken out before recognition: a Wiener-style spectral gain.

Whisper base misreads much of what is said over a fan, traffic or line hiss (white noise at 10 dB SNR:
about a fifth of the words, far more for a synthetic voice). The noise floor of each frequency is
estimated as a low percentile of that frequency's power over the recording (steady noise is there in
every frame; speech is not), and each time-frequency cell is scaled by how far it stands above that
floor. Speech well above the floor passes unchanged, so clean recordings are left almost as they are;
when the floor is far below the speech (a quiet room), nothing is done at all.

:func:`denoised` picks the suppressor: this one ("spectral": cheap, used for partial transcripts) or
DeepFilterNet3 ("deepfilter", :mod:`neura.stt.deepfilter`, the default), behind the same quiet-room
check. Measured with ``bench/stt.py --denoiser spectral|deepfilter`` and ``--no-denoise`` (see
docs/decisions/stt-engine.md, "Noise").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import istft, stft

from neura.stt.base import SAMPLE_RATE_HZ

Samples = npt.NDArray[np.float32]

FRAME = 512  # 32 ms at 16 kHz
HOP = FRAME // 4
NOISE_PERCENTILE = 10  # the floor: a frequency's power in its quietest tenth of frames
# A noise-only cell's power is exponentially distributed: its 10th percentile is 0.105 x its mean, so
# ten floors are about the noise's mean power. Tuned on bench/stt.py's espeak clips at 10 dB (WER 39 %
# unfiltered): 3 floors 32 %, 6: 31 %, 10: 29 %, 20: 29 %, 30: 29 %.
OVER_SUBTRACTION = 10.0
GAIN_FLOOR = 0.03  # a cell is never scaled below this (no "musical" holes)
QUIET_ROOM_DB = 30.0  # speech this far above the floor: the recording is left alone
MIN_SECONDS = 1.0  # too short to tell noise from speech


def noise_floor_db(samples: Samples) -> float | None:
    """How far (dB) the recording's average power lies above its estimated noise floor; None when
    the recording is too short to tell."""
    if samples.size < MIN_SECONDS * SAMPLE_RATE_HZ:
        return None
    power = _power(samples)
    floor = np.percentile(power, NOISE_PERCENTILE, axis=1)
    return float(10 * np.log10(max(float(power.mean()), 1e-20) / max(float(floor.mean()), 1e-20)))


def suppress_noise(samples: Samples) -> Samples:
    """``samples`` with steady noise reduced, the same length; unchanged when short or already clean."""
    audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    margin = noise_floor_db(audio)
    if margin is None or margin >= QUIET_ROOM_DB:
        return audio
    _, _, spectrum = stft(audio, SAMPLE_RATE_HZ, nperseg=FRAME, noverlap=FRAME - HOP)
    power = np.abs(spectrum) ** 2
    floor = np.percentile(power, NOISE_PERCENTILE, axis=1, keepdims=True)
    gain = np.maximum(1.0 - OVER_SUBTRACTION * floor / np.maximum(power, 1e-20), GAIN_FLOOR)
    _, cleaned = istft(spectrum * np.sqrt(gain), SAMPLE_RATE_HZ, nperseg=FRAME, noverlap=FRAME - HOP)
    out = np.zeros_like(audio)
    n = min(audio.size, cleaned.size)
    out[:n] = cleaned[:n]
    return out


def _power(samples: Samples) -> npt.NDArray[np.float64]:
    _, _, spectrum = stft(samples, SAMPLE_RATE_HZ, nperseg=FRAME, noverlap=FRAME - HOP)
    return np.abs(spectrum.astype(np.complex128)) ** 2


DENOISERS = ("deepfilter", "spectral")


def denoised(samples: Samples, denoiser: str) -> Samples:
    """``samples`` through the noise suppressor named ``denoiser`` (one of :data:`DENOISERS`)."""
    if denoiser == "deepfilter":
        from neura.stt import deepfilter

        audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        margin = noise_floor_db(audio)
        return audio if margin is None or margin >= QUIET_ROOM_DB else deepfilter.suppress(audio)
    if denoiser == "spectral":
        return suppress_noise(samples)
    raise ValueError(f"unknown noise suppressor {denoiser!r}: choose one of {', '.join(DENOISERS)}")
