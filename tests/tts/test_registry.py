"""Loading voices by reference, caching them, listing them, and the cached speaking rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neura.config import Settings
from neura.errors import EngineUnavailableError
from neura.tts import UnknownVoiceError, VoiceRef, create_tts, find_voice, list_voices
from neura.tts.espeak import EspeakEngine
from neura.tts.piper import PiperEngine
from neura.tts.rate import RATES_FILE, _memory, cached_rate_wps


def test_default_voice_is_joe_on_piper_and_is_loaded_once(tts_settings: Settings) -> None:
    engine = create_tts(None, tts_settings)
    assert isinstance(engine, PiperEngine)
    assert engine.voice.id == "piper:en_US-joe-medium"
    assert create_tts("piper", tts_settings) is engine
    assert create_tts(VoiceRef("piper", "en_US-joe-medium"), tts_settings) is engine


def test_voices_by_reference(tts_settings: Settings) -> None:
    assert create_tts("espeak", tts_settings).voice.id == "espeak:en-us"
    british = create_tts("en-gb", tts_settings)  # a bare espeak voice reaches espeak while piper is configured
    assert isinstance(british, EspeakEngine) and british.voice.id == "espeak:en-gb"
    female = create_tts("espeak:en-us+f3", tts_settings)
    assert female.voice.id == "espeak:en-us+f3" and female.voice.gender == "female"


def test_tts_voice_setting_picks_the_default_voice(tts_settings: Settings) -> None:
    settings = tts_settings.model_copy(update={"tts_voice": "espeak:en-gb"})
    assert create_tts(None, settings).voice.id == "espeak:en-gb"
    assert VoiceRef.configured(tts_settings.model_copy(update={"tts_voice": "en-gb"})) == VoiceRef("espeak", "en-gb")
    xtts = tts_settings.model_copy(update={"tts_provider": "xtts", "tts_voice": "Ana Florence"})
    assert VoiceRef.configured(xtts) == VoiceRef("xtts", "Ana Florence")  # only XTTS can judge its speakers


@pytest.mark.parametrize(
    ("voice", "error", "message"),
    [
        ("festival:x", UnknownVoiceError, "no TTS engine named 'festival'"),
        ("piper:robot", UnknownVoiceError, "no Piper voice 'robot'"),
        ("piper:/nowhere/voice.onnx", UnknownVoiceError, "does not exist"),
        ("espeak:zz-qq", UnknownVoiceError, "no voice named 'zz-qq'"),
        ("xtts", EngineUnavailableError, "XTTS_MODEL_DIR"),
    ],
)
def test_unknown_voices_and_missing_engines(
    tts_settings: Settings, voice: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        create_tts(voice, tts_settings)
    assert caught.value.hint  # type: ignore[attr-defined]


def test_list_voices(tts_settings: Settings) -> None:
    voices = {v.id: v for v in list_voices(tts_settings)}
    assert {"piper:en_US-joe-medium", "espeak:en-us", "espeak:en-gb", "espeak:en-us+f3"} <= set(voices)
    piper = voices["piper:en_US-joe-medium"]
    assert piper.engine_license == "GPL-3.0-or-later" and "lessac" in piper.license and piper.gender == "male"
    assert all(v.language.startswith("en-") for v in voices.values())
    assert all(VoiceRef.parse(id).engine == v.engine for id, v in voices.items())  # every id parses back


def test_find_voice_accepts_only_listed_voices(tts_settings: Settings, tmp_path: Path) -> None:
    assert find_voice(VoiceRef.parse("en-gb"), tts_settings).id == "espeak:en-gb"
    with pytest.raises(UnknownVoiceError, match="no voice 'espeak:fr' here"):
        find_voice(VoiceRef.parse("espeak:fr"), tts_settings)  # espeak-ng has it; this server does not list it
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"")
    with pytest.raises(UnknownVoiceError):  # a file on the server is no voice of the API's
        find_voice(VoiceRef("piper", str(model)), tts_settings)
    with pytest.raises(EngineUnavailableError, match="XTTS_MODEL_DIR"):
        find_voice(VoiceRef.parse("xtts"), tts_settings)


def test_a_configured_piper_file_is_listed_by_its_stem_and_loads_by_it(tts_settings: Settings, tmp_path: Path) -> None:
    from neura.tts.piper import bundled_voice_paths

    model, config = bundled_voice_paths()
    (tmp_path / "my-voice.onnx").symlink_to(model)
    (tmp_path / "my-voice.onnx.json").symlink_to(config)
    settings = tts_settings.model_copy(update={"tts_voice": str(tmp_path / "my-voice.onnx")})
    assert VoiceRef.configured(settings) == VoiceRef("piper", str(tmp_path / "my-voice.onnx"))
    assert "piper:my-voice" in {v.id for v in list_voices(settings)}
    assert find_voice(VoiceRef.parse("piper:my-voice"), settings).gender == ""  # not a voice we know
    assert create_tts("piper:my-voice", settings).voice.id == "piper:my-voice"


def test_speaking_rate_is_measured_once_and_cached_on_disk(tmp_path: Path, espeak: EspeakEngine) -> None:
    rate = cached_rate_wps(espeak, tmp_path, espeak.engine_version)
    assert 2.0 < rate < 4.5  # espeak-ng's default is 175 words per minute
    stored = json.loads((tmp_path / RATES_FILE).read_text())
    ((key, value),) = stored.items()
    assert key.startswith("espeak:en-us|espeak-ng 1.52") and value == rate
    (tmp_path / RATES_FILE).write_text(json.dumps({key: 9.5}))
    _memory.clear()  # a new process: the file answers, nothing is synthesised
    assert cached_rate_wps(espeak, tmp_path, espeak.engine_version) == 9.5
