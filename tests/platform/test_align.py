"""POST /v1/align on the real gateway: a recording and its transcript -> word and phoneme timings."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from tests.platform import users

TRANSCRIPT = "The quick brown fox jumps over the lazy dog. Then it runs into the forest."


@pytest.fixture(scope="module")
def speaker(gateway_url: str) -> Iterator[users.TestUser]:
    with httpx.Client(base_url=gateway_url, timeout=30) as http:
        yield users.signup(http)


@pytest.fixture(scope="module")
def spoken(gateway_url: str, speaker: users.TestUser) -> dict[str, Any]:
    """NEURA speaking the transcript: a WAV and the TTS's own word timings."""
    with httpx.Client(base_url=gateway_url, timeout=120) as http:
        response = http.post("/v1/tts", json={"text": TRANSCRIPT, "format": "wav"}, headers=speaker.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _wav(samples: np.ndarray, rate_hz: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate_hz)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def _align(
    client: httpx.Client, user: users.TestUser, audio: bytes, transcript: str | None, name: str = "a.wav"
) -> httpx.Response:
    data = {"transcript": transcript} if transcript is not None else {}
    files = {"audio": (name, audio, "application/octet-stream")}
    return client.post("/v1/align", data=data, files=files, headers=user.headers, timeout=120)


def _assert_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    return str(body["error"]["message"])


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_alignment_of_a_tts_recording_matches_the_tts_timings(
    client: httpx.Client, speaker: users.TestUser, spoken: dict[str, Any], fmt: str
) -> None:
    audio = base64.b64decode(spoken["audio"]["base64"])
    if fmt == "mp3":  # the same speech as an MP3: decoded by PyAV on the server
        response = client.post(
            "/v1/tts", json={"text": TRANSCRIPT, "format": "mp3"}, headers={**speaker.headers, "Accept": "audio/mpeg"}
        )
        audio = response.content
    response = _align(client, speaker, audio, TRANSCRIPT, name=f"speech.{fmt}")
    assert response.status_code == 200, response.text
    body = response.json()
    expected = spoken["alignment"]["words"]
    got = body["words"]
    assert [w["word"].lower() for w in got] == [w["word"].lower() for w in expected]
    errors_ms = [abs(g["start_s"] - e["start_s"]) * 1000 for g, e in zip(got, expected, strict=True)]
    median_ms, max_ms = float(np.median(errors_ms)), max(errors_ms)
    print(f"\n{fmt}: word starts differ from the TTS's by median {median_ms:.0f} ms, max {max_ms:.0f} ms")
    assert median_ms < 50
    assert sum(e <= 100 for e in errors_ms) >= 0.9 * len(errors_ms)
    assert body["duration_s"] == pytest.approx(spoken["audio"]["duration_s"], abs=0.06)
    assert body["alphabet"] == "arpabet"
    phonemes = body["phonemes"]
    assert phonemes[0]["start_s"] == 0 and phonemes[-1]["end_s"] == pytest.approx(body["duration_s"], abs=0.02)
    assert {"DH", "K", "F"} <= {p["phoneme"] for p in phonemes}


def test_not_audio_is_422(client: httpx.Client, speaker: users.TestUser) -> None:
    message = _assert_error(
        _align(client, speaker, b"this is a text file, not sound" * 20, TRANSCRIPT), 422, "audio_decode"
    )
    assert "not audio" in message


def test_truncated_file_is_422(client: httpx.Client, speaker: users.TestUser, spoken: dict[str, Any]) -> None:
    audio = base64.b64decode(spoken["audio"]["base64"])
    _assert_error(_align(client, speaker, audio[:60], TRANSCRIPT), 422, "audio_decode")  # the header and no sound


def test_silent_recording_is_422(client: httpx.Client, speaker: users.TestUser) -> None:
    message = _assert_error(_align(client, speaker, _wav(np.zeros(32000)), TRANSCRIPT), 422, "audio_decode")
    assert "silent" in message


def test_an_empty_transcript_is_422(client: httpx.Client, speaker: users.TestUser, spoken: dict[str, Any]) -> None:
    # without one at all the recording is transcribed first: tests/platform/test_transcriptions.py
    audio = base64.b64decode(spoken["audio"]["base64"])
    assert "transcript" in _assert_error(_align(client, speaker, audio, "  "), 422, "input")


def test_missing_audio_is_422(client: httpx.Client, speaker: users.TestUser) -> None:
    response = client.post("/v1/align", data={"transcript": TRANSCRIPT}, headers=speaker.headers)
    assert "audio" in _assert_error(response, 422, "invalid_request")


def test_too_long_recording_is_413(client: httpx.Client, speaker: users.TestUser) -> None:
    noise = np.random.default_rng(0).normal(0, 0.1, 8000 * 601).astype(np.float32)  # 10 min 1 s at 8 kHz: 9.6 MB
    message = _assert_error(_align(client, speaker, _wav(noise, 8000), TRANSCRIPT), 413, "payload_too_large")
    assert "600 s" in message


def test_upload_over_the_size_limit_is_413(
    client: httpx.Client, speaker: users.TestUser, platform_settings: Any
) -> None:
    too_big = b"\x00" * (platform_settings.max_upload_bytes + 1)
    _assert_error(_align(client, speaker, too_big, TRANSCRIPT), 413, "payload_too_large")


def test_align_needs_authentication(client: httpx.Client) -> None:
    response = client.post("/v1/align", data={"transcript": "hi"}, files={"audio": ("a.wav", _wav(np.zeros(800)))})
    _assert_error(response, 401, "auth")
