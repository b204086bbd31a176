"""Steady background noise taken out before recognition: a Wiener-style spectral gain.

Whisper base misreads much of what is said over a fan, traffic or line hiss (white noise at 10 dB SNR:
about a fifth of the words, far more for a synthetic voice). The noise floor of each frequency is
estimated as a low percentile of that frequency's power over the recording (steady noise is there in
every frame; speech is not), and each time-frequency cell is scaled by how far it stands above that
floor. Speech well above the floor passes unchanged, so clean recordings are left almost as they are;
when the floor is far below the speech (a quiet room), nothing is done at all.

:func:`denoised` picks the suppressor: this one ("spectral": cheap, used for partial transcripts) or
DeepFilterNet3 ("deepfilter", :mod:`neura.stt.deepfilter`, the default), behind the same quiet-room
check and a guard against background talk: over other people talking both suppressors make Whisper
worse, not better (babble at 10 dB: 12.5 % of the words wrong unfiltered, 27.6 % through DeepFilterNet3,
19.2 % through this one). Steady noise sounds the same in every pause; talk rises and falls with its
syllables. So the guard takes the recording's quietest frames (the pauses, whatever the noise) and
measures how much their speech-band energy varies: about a decibel for hiss or fan-like (pink) noise,
five and more for voices. A background that varies more than :data:`STEADY_SPREAD_DB` is left alone
(:func:`needs_suppression`; about 5 ms of CPU per utterance). Measured with ``bench/stt.py --denoiser
spectral|deepfilter --noise white|pink|babble`` and ``--no-denoise`` (see
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
# The guard: the speech band's energy per frame, between its 2nd and 15th percentile (the pauses). On
# bench/stt.py's clips at 10 dB (36 sentences x 2 voices, margins cut to 0.125 s as well as the full
# 0.5 s): white 0.6-1.5 dB, pink 0.7-1.7 dB, babble 5.9-38.6 dB.
SPEECH_BAND_HZ = (300.0, 4000.0)
PAUSE_PERCENTILES = (2, 15)
STEADY_SPREAD_DB = 3.5


def noise_floor_db(samples: Samples) -> float | None:
    """How far (dB) the recording's average power lies above its estimated noise floor; None when
    the recording is too short to tell."""
    if samples.size < MIN_SECONDS * SAMPLE_RATE_HZ:
        return None
    return _margin_db(_power(samples))


def _margin_db(power: npt.NDArray[np.float64]) -> float:
    floor = np.percentile(power, NOISE_PERCENTILE, axis=1)
    return float(10 * np.log10(max(float(power.mean()), 1e-20) / max(float(floor.mean()), 1e-20)))


def background_spread_db(samples: Samples) -> float | None:
    """How much the background varies: the spread (dB) of the speech band's energy over the
    recording's quietest frames; about 1 for steady noise, 5 and more for other people talking. None
    when the recording is too short to tell."""
    if samples.size < MIN_SECONDS * SAMPLE_RATE_HZ:
        return None
    return _spread_db(_power(samples))


def _spread_db(power: npt.NDArray[np.float64]) -> float:
    hz = np.arange(power.shape[0]) * SAMPLE_RATE_HZ / FRAME
    band = (hz >= SPEECH_BAND_HZ[0]) & (hz <= SPEECH_BAND_HZ[1])
    energy_db = 10 * np.log10(power[band].sum(axis=0) + 1e-20)
    low, high = np.percentile(energy_db, PAUSE_PERCENTILES)
    return float(high - low)


def needs_suppression(samples: Samples) -> bool:
    """Whether ``samples`` has steady background noise worth taking out: long enough to tell, not a
    quiet room, and no background talk (which the suppressors would make worse)."""
    if samples.size < MIN_SECONDS * SAMPLE_RATE_HZ:
        return False
    power = _power(samples)
    return _margin_db(power) < QUIET_ROOM_DB and _spread_db(power) <= STEADY_SPREAD_DB


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
    """``samples`` through the noise suppressor named ``denoiser`` (one of :data:`DENOISERS`); unchanged
    when :func:`needs_suppression` says no (short, quiet, or other people talking behind)."""
    if denoiser not in DENOISERS:
        raise ValueError(f"unknown noise suppressor {denoiser!r}: choose one of {', '.join(DENOISERS)}")
    audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    if not needs_suppression(audio):
        return audio
    if denoiser == "deepfilter":
        from neura.stt import deepfilter

        return deepfilter.suppress(audio)
    return suppress_noise(audio)
