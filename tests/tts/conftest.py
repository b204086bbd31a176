"""Real engines, loaded once per test session with a private cache folder (the patched Piper model and
measured speaking rates go there, not into the user's cache)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from neura.config import Settings
from neura.tts import BaseTTS, PieceAudio, VoiceInfo, create_tts
from neura.tts.chunking import SpeechPiece
from neura.tts.espeak import EspeakEngine
from neura.tts.espeak_lib import espeak_library
from neura.tts.piper import PiperEngine


@pytest.fixture(scope="session")
def tts_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tts-cache")


@pytest.fixture(scope="session")
def tts_settings(tts_cache_dir: Path) -> Settings:
    return Settings(NEURA_CACHE_DIR=tts_cache_dir, TTS_PROVIDER="piper", TTS_VOICE="", XTTS_MODEL_DIR=None)


@pytest.fixture(scope="session")
def piper(tts_settings: Settings) -> PiperEngine:
    engine = create_tts("piper", tts_settings)  # the registry's instance: loaded once for every test
    assert isinstance(engine, PiperEngine)
    return engine


@pytest.fixture(scope="session")
def espeak(tts_cache_dir: Path) -> EspeakEngine:
    return EspeakEngine(cache_dir=tts_cache_dir)


class TimelessEngine(BaseTTS):
    """An engine that, like XTTS, makes audio without any timing: espeak-ng's audio, its events dropped.
    It runs the path XTTS takes through BaseTTS (forced alignment) on real speech, here."""

    name = "timeless"

    def __init__(self, cache_dir: Path) -> None:
        self._library = espeak_library()
        info = VoiceInfo("timeless:en-us", "timeless", "en-US", "espeak-ng audio only", "GPL-3.0-or-later", "test")
        super().__init__(voice=info, sample_rate_hz=self._library.sample_rate_hz, cache_dir=cache_dir)

    @property
    def engine_version(self) -> str:
        return "timeless 1"

    def _synthesize_piece(self, piece: SpeechPiece) -> PieceAudio:
        speech = self._library.synthesize(piece.spoken, "en-us")
        return PieceAudio((speech.samples.astype(np.float32) / 32768.0).astype(np.float32))


@pytest.fixture(scope="session")
def timeless(tts_cache_dir: Path) -> TimelessEngine:
    return TimelessEngine(tts_cache_dir)


def rms(samples: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


def median_pitch_hz(samples: npt.NDArray[np.float32], rate_hz: int, frame_s: float = 0.04) -> float:
    """The median fundamental frequency over voiced frames (autocorrelation, 60-400 Hz): about 100 Hz for
    a man's voice, 170-250 Hz for a woman's."""
    size = int(frame_s * rate_hz)
    low, high = rate_hz // 400, rate_hz // 60
    pitches = []
    for start in range(0, samples.size - size, size // 2):
        frame = samples[start : start + size].astype(np.float64)
        if rms(frame.astype(np.float32)) < 0.02:
            continue  # a pause
        correlation = np.correlate(frame, frame, "full")[size - 1 :]
        pitches.append(rate_hz / (low + int(np.argmax(correlation[low:high]))))
    assert pitches, "no voiced frame"
    return float(np.median(pitches))
