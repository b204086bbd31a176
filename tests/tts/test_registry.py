"""Choosing engines by name, caching them, listing voices, and the cached speaking rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neura.config import Settings
from neura.errors import EngineUnavailableError
from neura.tts import create_tts, list_voices
from neura.tts.espeak import EspeakEngine
from neura.tts.piper import PiperEngine
from neura.tts.rate import RATES_FILE, _memory, cached_rate_wps


def test_default_engine_is_piper_and_is_loaded_once(tts_settings: Settings) -> None:
    engine = create_tts(None, tts_settings)
    assert isinstance(engine, PiperEngine)
    assert engine.voice.id == "piper:en_US-joe-medium"
    assert create_tts("piper", tts_settings) is engine
    assert create_tts("piper", tts_settings, voice="en_US-joe-medium") is not None


def test_engines_by_name_and_voice(tts_settings: Settings) -> None:
    assert isinstance(create_tts("espeak", tts_settings), EspeakEngine)
    british = create_tts("espeak", tts_settings.model_copy(update={"tts_voice": "en-gb"}))
    assert british.voice.id == "espeak:en-gb"  # an espeak voice reaches espeak while piper is configured


@pytest.mark.parametrize(
    ("name", "voice", "message"),
    [("festival", "", "no TTS engine named 'festival'"), ("piper", "robot", "no Piper voice 'robot'")],
)
def test_unknown_engines_and_voices(tts_settings: Settings, name: str, voice: str, message: str) -> None:
    with pytest.raises(EngineUnavailableError, match=message):
        create_tts(name, tts_settings, voice=voice)


def test_list_voices(tts_settings: Settings) -> None:
    voices = {v.id: v for v in list_voices(tts_settings)}
    assert {"piper:en_US-joe-medium", "espeak:en-us", "espeak:en-gb"} <= set(voices)
    piper = voices["piper:en_US-joe-medium"]
    assert piper.engine_license == "GPL-3.0-or-later" and "lessac" in piper.license
    assert all(v.language.startswith("en-") for v in voices.values())


def test_speaking_rate_is_measured_once_and_cached_on_disk(tmp_path: Path, espeak: EspeakEngine) -> None:
    rate = cached_rate_wps(espeak, tmp_path, espeak.engine_version)
    assert 2.0 < rate < 4.5  # espeak-ng's default is 175 words per minute
    stored = json.loads((tmp_path / RATES_FILE).read_text())
    ((key, value),) = stored.items()
    assert key.startswith("espeak:en-us|espeak-ng 1.52") and value == rate
    (tmp_path / RATES_FILE).write_text(json.dumps({key: 9.5}))
    _memory.clear()  # a new process: the file answers, nothing is synthesised
    assert cached_rate_wps(espeak, tmp_path, espeak.engine_version) == 9.5
