"""Speech made by NEURA's own voices for the speech recognition tests: real Piper and espeak-ng audio
with the TTS's own word timings, made once per process."""

from __future__ import annotations

import io
import tempfile
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from neura.config import Settings
from neura.encode.audio import resample
from neura.media import WordSpan
from neura.tts import create_tts

RATE_HZ = 16000
SENTENCES = (
    "Please send forty-two dollars to my brother James before Friday.",
    "How many apples did Maria buy at the market yesterday?",
    "The train to Chicago leaves from platform nine in twenty minutes.",
)


@dataclass(frozen=True)
class Spoken:
    text: str
    samples: npt.NDArray[np.float32]  # 16 kHz, with pad_s of silence before and after
    words: tuple[WordSpan, ...]  # the TTS's word timings on the padded timeline
    pad_s: float

    @property
    def speech_end_s(self) -> float:
        return self.samples.size / RATE_HZ - self.pad_s


@lru_cache(maxsize=1)
def _settings() -> Settings:
    return Settings(NEURA_CACHE_DIR=Path(tempfile.mkdtemp(prefix="neura-stt-tests-")), TTS_VOICE="")  # type: ignore[call-arg]


@lru_cache(maxsize=32)
def spoken(voice: str, text: str, pad_s: float = 0.5) -> Spoken:
    tts = create_tts(voice, _settings())
    pieces, words, offset_s = [], [], 0.0
    for chunk in tts.synthesize(text):
        pieces.append(chunk.samples)
        words += [WordSpan(w.word, w.start_s + offset_s + pad_s, w.end_s + offset_s + pad_s) for w in chunk.words]
        offset_s += chunk.duration_s
    speech = resample(np.concatenate(pieces), tts.sample_rate_hz, RATE_HZ)
    pad = np.zeros(round(pad_s * RATE_HZ), np.float32)
    return Spoken(text, np.concatenate([pad, speech, pad]), tuple(words), pad_s)


def wav_bytes(samples: npt.NDArray[np.float32], rate_hz: int = RATE_HZ) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate_hz)
        out.writeframes((np.clip(samples, -1, 1) * 32767).round().astype("<i2").tobytes())
    return buffer.getvalue()


def with_noise(samples: npt.NDArray[np.float32], snr_db: float, seed: int = 1) -> npt.NDArray[np.float32]:
    power = float(np.mean(samples[np.abs(samples) > 1e-4] ** 2))
    noise = np.random.default_rng(seed).normal(0, np.sqrt(power / 10 ** (snr_db / 10)), samples.size)
    return np.clip(samples + noise, -1, 1).astype(np.float32)


def with_babble(
    samples: npt.NDArray[np.float32], talkers: list[npt.NDArray[np.float32]], snr_db: float, seed: int = 1
) -> npt.NDArray[np.float32]:
    """``samples`` with other people talking behind, ``snr_db`` below its speech: the ``talkers``
    looped from random points and spoken at once (bench/stt.py's "babble")."""
    rng = np.random.default_rng(seed)
    noise = sum(
        (np.resize(np.roll(t, int(rng.integers(t.size))), samples.size) for t in talkers), np.zeros(samples.size)
    )
    power = float(np.mean(samples[np.abs(samples) > 1e-4] ** 2))
    noise *= np.sqrt(power / 10 ** (snr_db / 10) / float(np.mean(noise**2)))
    return np.clip(samples + noise, -1, 1).astype(np.float32)
