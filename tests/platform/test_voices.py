"""Voices over the API: the list, the voice field of every speaking request (parsed into one VoiceRef,
documented from the provider table), and the same errors everywhere: 422 unknown_voice, 503 when the
voice's engine is not installed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from neura.config import Settings
from neura.gateway.app import create_app
from neura.tts import TTS, list_voices
from tests.platform import users
from tests.platform.speech_client import decode
from tests.platform.videos import balance, pro_member, submit
from tests.platform.workers import clear_queues
from tests.tts.conftest import median_pitch_hz


@pytest.fixture(scope="module")
def user(gateway_url: str, database_url: str, platform_settings: Settings) -> Iterator[users.TestUser]:
    """One pro user for the module. No worker runs here: what it submits is dropped from the queue."""
    yield pro_member(gateway_url, database_url)
    clear_queues(platform_settings)


def test_the_list_is_the_registrys_with_gender(client: httpx.Client, platform_settings: Settings) -> None:
    items = client.get("/v1/voices").json()["items"]
    assert [v["id"] for v in items] == [v.id for v in list_voices(platform_settings)]
    genders = {v["id"]: v["gender"] for v in items}
    assert genders["piper:en_US-joe-medium"] == "male" and genders["espeak:en-us+f3"] == "female"


def test_every_voice_field_is_documented_from_the_provider_table(platform_settings: Settings) -> None:
    schemas = create_app(platform_settings).openapi()["components"]["schemas"]
    for model in ("VideoCreate", "TTSRequest", "LiveSessionCreate"):
        field = schemas[model]["properties"]["voice"]
        pattern = field["anyOf"][0]["pattern"]
        for name in TTS.names():
            assert re.fullmatch(pattern, f"{name}:some-voice"), (model, name)
        assert re.fullmatch(pattern, "en-us+f3") and not re.fullmatch(pattern, "/etc/passwd")
        assert "GET /v1/voices" in field["description"]
    assert "gender" in schemas["VoicePublic"]["required"]


def test_a_video_keeps_the_canonical_id_of_its_voice(client: httpx.Client, user: users.TestUser) -> None:
    assert submit(client, user)["voice"] == "piper:en_US-joe-medium"  # none given: the server's voice
    assert submit(client, user, voice="espeak")["voice"] == "espeak:en-us"
    assert submit(client, user, voice="en-us+f3")["voice"] == "espeak:en-us+f3"
    assert submit(client, user, voice="espeak:en-gb")["voice"] == "espeak:en-gb"


@pytest.mark.parametrize(
    "voice",
    ["shatner", "festival:kal", "espeak:fr", "piper:nobody", "piper:../../etc/voice.onnx", "/tmp/x.onnx", 7],
)
def test_unknown_voices_are_422_everywhere_with_the_choices(
    client: httpx.Client, user: users.TestUser, database_url: str, voice: object
) -> None:
    before = balance(database_url, user)
    for path, body in [
        ("/v1/videos", {"script": "Hello.", "voice": voice}),
        ("/v1/tts", {"text": "Hello.", "voice": voice}),
        ("/v1/live/sessions", {"voice": voice}),
    ]:
        response = client.post(path, json=body, headers=user.headers)
        assert response.status_code == 422, (path, response.text)
        error = response.json()["error"]
        assert error["code"] == "unknown_voice", (path, error)
        assert "piper" in error["hint"] and "espeak" in error["hint"], error
    assert balance(database_url, user) == before


def test_a_voice_whose_engine_is_not_installed_is_503(client: httpx.Client, user: users.TestUser) -> None:
    for path, body in [
        ("/v1/videos", {"script": "Hello.", "voice": "xtts:Claribel Dervla"}),
        ("/v1/tts", {"text": "Hello.", "voice": "xtts"}),
    ]:
        response = client.post(path, json=body, headers=user.headers)
        assert response.status_code == 503, (path, response.text)
        assert response.json()["error"]["code"] == "engine_unavailable"
        assert "XTTS_MODEL_DIR" in response.json()["error"]["message"]


def test_speech_comes_in_the_voice_asked_for(client: httpx.Client, user: users.TestUser) -> None:
    text = "Hello there, how are you today? I am fine, thank you."
    pitches = {}
    for voice in ("espeak:en-us", "espeak:en-us+f3"):
        response = client.post("/v1/tts", json={"text": text, "voice": voice}, headers=user.headers)
        assert response.status_code == 200, response.text
        assert response.json()["voice"] == voice
        raw = client.post(
            "/v1/tts", json={"text": text, "voice": voice}, headers={**user.headers, "Accept": "audio/wav"}
        )
        audio = decode(raw.content)
        pitches[voice] = median_pitch_hz(audio.samples, audio.sample_rate_hz)
    assert pitches["espeak:en-us"] < 130 < 160 < pitches["espeak:en-us+f3"], pitches
