"""The speech recognition engine, loaded once per test session (the configured default model)."""

from __future__ import annotations

import pytest

from neura.config import Settings
from neura.stt import STTEngine, create_stt


@pytest.fixture(scope="session")
def stt_settings() -> Settings:
    return Settings(STT_MODEL_DIR=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def engine(stt_settings: Settings) -> STTEngine:
    return create_stt(stt_settings)  # the registry's instance: shared with the gateway tests in this process
