"""Real engines, loaded once per test session with a private cache folder (the patched Piper model and
measured speaking rates go there, not into the user's cache)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from neura.config import Settings
from neura.tts import create_tts
from neura.tts.espeak import EspeakEngine
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


def rms(samples: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
