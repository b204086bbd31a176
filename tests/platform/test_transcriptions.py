"""POST /v1/audio/transcriptions through the official openai SDK on the real gateway, metering, and every
kind of bad input: refused with a clear 4xx and nothing charged."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import openai
import pytest

from neura.encode.audio import encode_audio, resample
from neura.stt.scoring import word_error_rate
from tests.corpus.audio import two_hour_mp3, video_without_sound, webm_video_with
from tests.platform import users
from tests.platform.test_speech_billing import speech_ledger
from tests.platform.videos import balance, set_account
from tests.stt.samples import RATE_HZ, SENTENCES, spoken, wav_bytes, with_noise

TEXT = f"{SENTENCES[0]} {SENTENCES[1]}"


@pytest.fixture(scope="module")
def speaker(gateway_url: str) -> Iterator[users.TestUser]:
    with httpx.Client(base_url=gateway_url, timeout=30) as http:
        yield users.signup(http)


@pytest.fixture(scope="module")
def api_key(gateway_url: str, speaker: users.TestUser) -> str:
    with httpx.Client(base_url=gateway_url, timeout=30) as http:
        created = http.post("/v1/api-keys", json={"name": "stt"}, headers=speaker.headers)
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


@pytest.fixture(scope="module")
def speech_wav() -> bytes:
    return wav_bytes(spoken("piper", TEXT).samples)


def _sdk(gateway_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key, max_retries=0, timeout=300)


def _post(client: httpx.Client, user: users.TestUser, audio: bytes, name: str = "a.wav", **form: str) -> httpx.Response:
    files = {"file": (name, audio, "application/octet-stream")}
    return client.post("/v1/audio/transcriptions", data=form, files=files, headers=user.headers, timeout=300)


def test_the_openai_sdk_gets_json_and_verbose_json_with_words(
    gateway_url: str, api_key: str, speech_wav: bytes
) -> None:
    client = _sdk(gateway_url, api_key)
    plain = client.audio.transcriptions.create(model="whisper-1", file=("speech.wav", speech_wav))
    assert word_error_rate([TEXT], [plain.text]) <= 0.1, plain.text
    verbose = client.audio.transcriptions.create(
        model="whisper-1",
        file=("speech.wav", speech_wav),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
        language="en",
    )
    assert verbose.language == "english" and verbose.duration == pytest.approx(len(speech_wav) / 2 / RATE_HZ, abs=0.05)
    assert verbose.words and verbose.segments and verbose.text == plain.text
    assert [w.word for w in verbose.words][:3] == ["Please", "send", "$42"]
    assert all(a.start <= b.start for a, b in zip(verbose.words, verbose.words[1:], strict=False))
    assert verbose.segments[0].start >= 0 and verbose.segments[-1].end <= verbose.duration + 0.01
    assert verbose.segments[0].text.strip().startswith("Please")
    words_only = client.audio.transcriptions.create(
        model="base", file=("speech.wav", speech_wav), response_format="verbose_json", timestamp_granularities=["word"]
    )
    assert words_only.words and words_only.segments is None


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
def test_the_openai_sdk_gets_text_and_subtitles(gateway_url: str, api_key: str, speech_wav: bytes, fmt: str) -> None:
    client = _sdk(gateway_url, api_key)
    body = client.audio.transcriptions.create(model="whisper-1", file=("speech.wav", speech_wav), response_format=fmt)
    assert isinstance(body, str)
    if fmt == "text":
        assert word_error_rate([TEXT], [body]) <= 0.1
    elif fmt == "srt":
        assert body.startswith("1\n00:00:0") and " --> " in body and "James" in body
    else:
        assert body.startswith("WEBVTT") and "00:00:0" in body and "James" in body


def test_transcription_is_metered_per_started_minute(
    client: httpx.Client, database_url: str, speech_wav: bytes
) -> None:
    user = users.signup(client)
    start = balance(database_url, user)
    response = _post(client, user, speech_wav)
    assert response.status_code == 200, response.text
    assert response.headers["X-Credits-Charged"] == "1"
    assert int(response.headers["X-Credits-Remaining"]) == start - 1 == balance(database_url, user)
    assert response.json()["usage"] == {"type": "duration", "seconds": 8}
    assert speech_ledger(database_url, user) == [("speech", -1)]
    set_account(database_url, user, credits=0)
    refused = _post(client, user, speech_wav)
    assert refused.status_code == 402 and refused.json()["error"]["code"] == "payment_required"


REFUSALS = {
    "not-audio": (lambda: b"%PDF-1.7 this is a document, not a recording " * 50, 422, "audio_decode", "not audio"),
    "silence": (lambda: wav_bytes(np.zeros(3 * RATE_HZ, np.float32)), 422, "no_speech", "silent"),
    "noise-only": (
        lambda: wav_bytes(np.random.default_rng(5).normal(0, 0.1, 4 * RATE_HZ).astype(np.float32)),
        422,
        "no_speech",
        "no speech",
    ),
    "video-without-sound": (video_without_sound, 422, "audio_decode", "no audio stream"),
    "two-hours": (two_hour_mp3, 413, "payload_too_large", "600 s"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_bad_input_is_refused_clearly_and_not_charged(client: httpx.Client, database_url: str, case: str) -> None:
    make, status, code, words = REFUSALS[case]
    user = users.signup(client)
    start = balance(database_url, user)
    response = _post(client, user, make(), name=f"{case}.bin")
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"], error
    assert "X-Credits-Charged" not in response.headers
    assert balance(database_url, user) == start and speech_ledger(database_url, user) == []


def test_an_upload_over_the_size_limit_is_413(client: httpx.Client, speaker: users.TestUser, platform_settings) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, speaker, b"\x00" * (platform_settings.max_upload_bytes + 1))
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"


def test_unknown_model_and_language_are_422(client: httpx.Client, speaker: users.TestUser, speech_wav: bytes) -> None:
    unknown = _post(client, speaker, speech_wav, model="whisper-large-v9")
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_stt_model"
    language = _post(client, speaker, speech_wav, language="zz")
    assert language.status_code == 422 and language.json()["error"]["code"] == "unsupported_language"
    bad_format = _post(client, speaker, speech_wav, response_format="docx")
    assert bad_format.status_code == 422


@pytest.mark.parametrize("kind", ["telephone-8khz-mp3", "clipped", "noisy-10db", "video-webm"])
def test_hard_but_usable_audio_is_transcribed(client: httpx.Client, speaker: users.TestUser, kind: str) -> None:
    clip = spoken("piper", SENTENCES[0]).samples
    if kind == "telephone-8khz-mp3":
        audio, _ = encode_audio(resample(clip, RATE_HZ, 8000), 8000, "mp3")
    elif kind == "clipped":
        audio = wav_bytes(np.clip(clip * 8.0, -0.5, 0.5))
    elif kind == "noisy-10db":
        audio = wav_bytes(with_noise(clip, 10.0))
    else:
        audio = webm_video_with(clip)
    response = _post(client, speaker, audio, name=f"{kind}.bin", response_format="verbose_json")
    assert response.status_code == 200, response.text
    assert word_error_rate([SENTENCES[0]], [response.json()["text"]]) <= 0.25, response.json()["text"]


def test_align_without_a_transcript_transcribes_then_aligns(client: httpx.Client, database_url: str) -> None:
    user = users.signup(client)
    start = balance(database_url, user)
    clip = spoken("piper", SENTENCES[1])
    response = client.post(
        "/v1/align",
        files={"audio": ("me.wav", wav_bytes(clip.samples), "audio/wav")},
        headers=user.headers,
        timeout=300,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert word_error_rate([SENTENCES[1]], [body["transcript"]]) <= 0.1
    assert [w["word"].lower() for w in body["words"]][:4] == ["how", "many", "apples", "did"]
    errors_ms = [abs(w["start_s"] - t.start_s) * 1000 for w, t in zip(body["words"], clip.words, strict=False)]
    assert np.median(errors_ms) < 80
    assert response.headers["X-Credits-Charged"] == "1" and balance(database_url, user) == start - 1
    silent = client.post(
        "/v1/align", files={"audio": ("s.wav", wav_bytes(np.zeros(RATE_HZ, np.float32)))}, headers=user.headers
    )
    assert silent.status_code == 422 and balance(database_url, user) == start - 1
