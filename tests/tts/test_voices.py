"""Voice references: parsed once from "engine", "engine:voice" or a bare id; errors name the choices."""

from __future__ import annotations

import pytest

from neura.config import Settings
from neura.errors import InputError
from neura.tts import TTS, UnknownVoiceError, VoiceRef


@pytest.mark.parametrize(
    ("written", "engine", "voice"),
    [
        ("piper", "piper", "en_US-joe-medium"),  # an engine: its default voice
        ("  ESPEAK ", "espeak", "en-us"),
        ("xtts", "xtts", "Claribel Dervla"),
        ("piper:en_US-joe-medium", "piper", "en_US-joe-medium"),
        ("espeak:en-gb", "espeak", "en-gb"),
        ("espeak:", "espeak", "en-us"),  # nothing after the colon: the default
        ("Espeak:en-us+f3", "espeak", "en-us+f3"),
        ("xtts:Ana Florence", "xtts", "Ana Florence"),  # an XTTS speaker: only XTTS can judge it
        ("en-gb", "espeak", "en-gb"),  # bare ids name their engine by their form
        ("en-us+f3", "espeak", "en-us+f3"),
        ("en_US-joe-medium", "piper", "en_US-joe-medium"),
        ("/voices/amy.onnx", "piper", "/voices/amy.onnx"),
        ("me.wav", "xtts", "me.wav"),
        ("piper:/voices/with:colon.onnx", "piper", "/voices/with:colon.onnx"),
    ],
)
def test_good_references_parse_to_one_canonical_id(written: str, engine: str, voice: str) -> None:
    ref = VoiceRef.parse(written)
    assert ref == VoiceRef(engine, voice)
    assert str(ref) == f"{engine}:{voice}"
    assert VoiceRef.parse(str(ref)) == ref  # the canonical id parses back to itself


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("shatner", "there is no voice 'shatner'"),
        ("festival:kal", "there is no TTS engine named 'festival'"),
        ("", "no voice was given"),
        ("   ", "no voice was given"),
        ("Hello World", "there is no voice 'Hello World'"),
    ],
)
def test_bad_references_are_input_errors_that_name_the_choices(written: str, message: str) -> None:
    with pytest.raises(UnknownVoiceError, match=message) as caught:
        VoiceRef.parse(written)
    assert isinstance(caught.value, InputError) and caught.value.exit_code == 65 and caught.value.http_status == 422
    hint = caught.value.hint or ""
    assert all(name in hint for name in TTS.names()) and "piper:en_US-joe-medium" in hint


@pytest.mark.parametrize(
    ("provider", "voice", "expected"),
    [
        ("piper", "", "piper:en_US-joe-medium"),
        ("espeak", "", "espeak:en-us"),
        ("piper", "espeak:en-gb", "espeak:en-gb"),
        ("piper", "en-gb", "espeak:en-gb"),  # plainly espeak's, though piper is the engine
        ("espeak", "piper", "piper:en_US-joe-medium"),
        ("piper", "/v/amy.onnx", "piper:/v/amy.onnx"),
        ("xtts", "Ana Florence", "xtts:Ana Florence"),  # no other engine owns it: the configured one does
    ],
)
def test_the_configured_voice_comes_from_tts_voice_then_tts_provider(provider: str, voice: str, expected: str) -> None:
    settings = Settings(_env_file=None, TTS_PROVIDER=provider, TTS_VOICE=voice)
    assert str(VoiceRef.configured(settings)) == expected


def test_every_engine_of_the_table_has_a_default_voice_that_it_owns_or_names() -> None:
    for name in TTS.names():
        provider = TTS.create(name)
        assert provider.default_voice
        assert VoiceRef.parse(name) == VoiceRef(name, provider.default_voice)
