"""NEURA's TTS service on the real gateway: /v1/tts, the OpenAI-compatible /v1/audio/speech and the
/v1/tts/stream WebSocket, with real Piper synthesis and PyAV decoding of what comes back."""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Iterator

import httpx
import numpy as np
import openai
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from neura.gateway.routes.tts_stream import SentenceBuffer
from tests.platform import users
from tests.platform.speech_client import (
    Chunk,
    StreamResult,
    decode,
    open_stream,
    receive_chunk,
    receive_until_done,
    send_text,
    ws_url,
)
from tests.realtime import check_message

TWO_SENTENCES = "Hello there. This is NEURA, speaking from a test."
SPOKEN_WORDS = ["hello", "there", "this", "is", "neura", "speaking", "from", "a", "test"]
PARAGRAPH = (
    "The sun rose slowly over the quiet town. Birds began to sing in the old oak trees. "
    "A baker opened his shop and the smell of bread filled the street. "
    "By eight o'clock, the square was full of people."
)


@pytest.fixture(scope="module")
def speaker(gateway_url: str) -> Iterator[users.TestUser]:
    with httpx.Client(base_url=gateway_url, timeout=30) as http:
        yield users.signup(http)


@pytest.fixture(scope="module")
def api_key(gateway_url: str, speaker: users.TestUser) -> str:
    with httpx.Client(base_url=gateway_url, timeout=30) as http:
        response = http.post("/v1/api-keys", json={"name": "tts tests"}, headers=speaker.headers)
        assert response.status_code == 201, response.text
        return str(response.json()["key"])


def _assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"} and body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body
    return body


# --- POST /v1/tts


def test_tts_returns_audio_whose_length_matches_its_alignment(client: httpx.Client, speaker: users.TestUser) -> None:
    response = client.post("/v1/tts", json={"text": TWO_SENTENCES}, headers=speaker.headers, timeout=120)
    assert response.status_code == 200, response.text
    body = response.json()
    audio = decode(base64.b64decode(body["audio"]["base64"]))
    assert (audio.container, audio.codec, audio.sample_rate_hz) == ("wav", "pcm_s16le", 22050)
    assert abs(audio.duration_s - body["audio"]["duration_s"]) < 0.01
    words = body["alignment"]["words"]
    assert [w["word"].lower() for w in words] == SPOKEN_WORDS
    # the last word ends where the speech ends (the model's own trailing breath aside)
    assert 0 <= audio.duration_s - words[-1]["end_s"] < 0.4
    assert all(a["start_s"] <= b["start_s"] for a, b in itertools.pairwise(words))
    phonemes = body["alignment"]["phonemes"]
    assert phonemes[0]["start_s"] == 0 and abs(phonemes[-1]["end_s"] - audio.duration_s) < 0.01
    assert all(abs(a["end_s"] - b["start_s"]) < 0.002 for a, b in itertools.pairwise(phonemes)), "contiguous"
    assert body["alignment"]["alphabet"] == "ipa" and body["voice"].startswith("piper:")
    first, second = body["sentences"]
    assert first["text"] == "Hello there." and second["start_s"] - first["end_s"] == pytest.approx(0.25, abs=0.002)
    assert float(np.sqrt(np.mean(audio.samples**2))) > 0.02, "the audio is speech, not silence"


@pytest.mark.parametrize(
    ("fmt", "codec", "container", "rate_hz"),
    [("wav", "pcm_s16le", "wav", 22050), ("mp3", "mp3float", "mp3", 22050), ("opus", "opus", "ogg", 48000)],
)
def test_tts_formats_decode(
    client: httpx.Client, speaker: users.TestUser, fmt: str, codec: str, container: str, rate_hz: int
) -> None:
    response = client.post("/v1/tts", json={"text": "Formats work.", "format": fmt}, headers=speaker.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    audio = decode(base64.b64decode(body["audio"]["base64"]))
    assert (audio.codec, audio.container, audio.sample_rate_hz) == (codec, container, rate_hz)
    assert body["audio"]["sample_rate_hz"] == rate_hz
    assert abs(audio.duration_s - body["audio"]["duration_s"]) < 0.08  # codec padding at most


def test_tts_raw_audio_with_accept_header(client: httpx.Client, speaker: users.TestUser) -> None:
    headers = {**speaker.headers, "Accept": "audio/*"}
    body = {"text": "Raw bytes please.", "format": "mp3", "sample_rate_hz": 16000}
    response = client.post("/v1/tts", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/mpeg"
    audio = decode(response.content)
    assert audio.sample_rate_hz == 16000 == int(response.headers["x-sample-rate-hz"])
    assert abs(audio.duration_s - float(response.headers["x-audio-duration-s"])) < 0.08


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": ""}, 422, "empty_text"),
        ({"text": "   ...  "}, 422, "empty_text"),
        ({"text": "x" * 5001}, 413, "text_too_long"),
        ({"text": "Hi.", "voice": "no-such-voice"}, 422, "unknown_voice"),
        ({"text": "Hi.", "voice": "piper:nobody"}, 422, "unknown_voice"),
        ({"text": "Hi.", "format": "opus", "sample_rate_hz": 22050}, 422, "input"),
        ({"text": "Hi.", "format": "ogg"}, 422, "invalid_request"),
        ({"voice": "default"}, 422, "invalid_request"),
    ],
)
def test_tts_bad_requests(
    client: httpx.Client, speaker: users.TestUser, body: dict[str, object], status: int, code: str
) -> None:
    _assert_error(client.post("/v1/tts", json=body, headers=speaker.headers), status, code)


def test_tts_needs_authentication(client: httpx.Client) -> None:
    _assert_error(client.post("/v1/tts", json={"text": "Hello."}), 401, "auth")
    _assert_error(client.post("/v1/tts", json={"text": "Hello."}, headers={"X-API-Key": "nk_forged"}), 401, "auth")


def test_tts_other_voice(client: httpx.Client, speaker: users.TestUser) -> None:
    for voice in ("espeak", "espeak:en-us"):
        body = {"text": "A robot voice.", "voice": voice}
        response = client.post("/v1/tts", json=body, headers=speaker.headers)
        assert response.status_code == 200, response.text
        assert response.json()["voice"] == "espeak:en-us"


# --- POST /v1/audio/speech (OpenAI-compatible), through the official SDK


def _openai(gateway_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key, max_retries=0, timeout=120)


@pytest.mark.parametrize(
    ("fmt", "codec", "rate_hz"),
    [
        ("mp3", "mp3float", 22050),
        ("opus", "opus", 48000),
        ("aac", "aac", 22050),
        ("flac", "flac", 22050),
        ("wav", "pcm_s16le", 22050),
    ],
)
def test_openai_sdk_round_trip(gateway_url: str, api_key: str, fmt: str, codec: str, rate_hz: int) -> None:
    client = _openai(gateway_url, api_key)
    response = client.audio.speech.create(model="tts-1", voice="alloy", input=TWO_SENTENCES, response_format=fmt)  # type: ignore[arg-type]
    audio = decode(response.content)
    assert (audio.codec, audio.sample_rate_hz) == (codec, rate_hz)
    assert 2.5 < audio.duration_s < 5.0
    assert response.response.headers["content-type"].startswith("audio/")


def test_openai_sdk_pcm_speed_and_model_alias(gateway_url: str, api_key: str) -> None:
    client = _openai(gateway_url, api_key)
    normal = client.audio.speech.create(model="neura-tts", voice="echo", input=TWO_SENTENCES, response_format="pcm")
    fast = client.audio.speech.create(
        model="tts-1", voice={"id": "default"}, input=TWO_SENTENCES, response_format="pcm", speed=2.0
    )
    normal_s, fast_s = len(normal.content) / 2 / 24000, len(fast.content) / 2 / 24000  # s16le mono at 24 kHz
    assert 2.5 < normal_s < 5.0
    assert fast_s == pytest.approx(normal_s / 2, rel=0.1)


def test_openai_sdk_errors_keep_neura_shape(gateway_url: str, api_key: str) -> None:
    client = _openai(gateway_url, api_key)
    with pytest.raises(openai.UnprocessableEntityError) as unknown_voice:
        client.audio.speech.create(model="tts-1", voice="no-such-voice", input="Hello.")
    assert unknown_voice.value.status_code == 422
    assert unknown_voice.value.response.json()["error"]["code"] == "unknown_voice"
    with pytest.raises(openai.UnprocessableEntityError):
        client.audio.speech.create(model="dall-e-3", voice="alloy", input="Hello.")  # type: ignore[arg-type]
    with pytest.raises(openai.AuthenticationError):
        _openai(gateway_url, "nk_not_a_key").audio.speech.create(model="tts-1", voice="alloy", input="Hello.")


# --- WS /v1/tts/stream


def test_sentence_buffer_releases_sentences_as_soon_as_they_are_complete() -> None:
    buffer = SentenceBuffer()
    assert buffer.push("Hello wor") == []
    assert buffer.push("ld.") == []  # "world.5" could still follow
    assert buffer.push(" ") == ["Hello world."]
    assert buffer.push("Dr. ") == []  # an abbreviation does not end a sentence
    assert buffer.push("Smith paid 3.") == []
    assert buffer.push("5 dollars! And then") == ["Dr. Smith paid 3.5 dollars!"]
    assert buffer.flush() == ["And then"]
    assert buffer.flush() == []


def test_sentence_buffer_cuts_long_or_first_sentences_at_clauses() -> None:
    buffer = SentenceBuffer()
    assert buffer.push("Well, as I was saying to my friend yesterday, the weather", eager=True) == []
    first = buffer.push(" is fine today and", eager=True)  # a clause goes once what follows it is long enough
    assert first == ["Well, as I was saying to my friend yesterday,"]
    assert buffer.push(" warm. ") == ["the weather is fine today and warm."]
    long_sentence = "and then, " + "on and on and on, " * 15
    assert buffer.push(long_sentence)  # no sentence end yet, but finished clauses go out
    assert len(buffer.text) < len(long_sentence)


def _check_stream(result: StreamResult, sentences: list[str]) -> None:
    chunks = result.chunks
    assert [c.header["seq"] for c in chunks] == list(range(len(chunks)))
    assert [c.header["text"] for c in chunks] == sentences
    timeline_s = 0.0
    for chunk in chunks:
        header = chunk.header
        assert header["start_s"] == pytest.approx(timeline_s, abs=0.002)
        assert abs(len(chunk.audio) / 2 / header["sample_rate_hz"] - header["duration_s"]) < 0.001
        pcm = np.frombuffer(chunk.audio, "<i2").astype(np.float32) / 32767
        assert float(np.sqrt(np.mean(pcm**2))) > 0.02
        words = header["words"]
        assert words and all(
            header["start_s"] <= w["start_s"] <= w["end_s"] <= header["start_s"] + header["duration_s"] + 1e-3
            for w in words
        )
        assert header["phonemes"][0]["start_s"] == pytest.approx(header["start_s"], abs=0.002)
        assert header["phonemes"][-1]["end_s"] == pytest.approx(header["start_s"] + header["duration_s"], abs=0.002)
        timeline_s += header["duration_s"]
    assert result.done is not None and result.done["chunks"] == len(chunks)
    assert result.done["duration_s"] == pytest.approx(timeline_s, abs=0.01)


def test_stream_speaks_each_sentence_as_soon_as_it_is_complete(gateway_url: str, speaker: users.TestUser) -> None:
    sentences = [
        "The sun rose slowly over the quiet town.",
        "Birds began to sing in the old oak trees.",
        "By eight o'clock, the square was full of people.",
    ]
    socket, ready = open_stream(ws_url(gateway_url, access_token=speaker.access_token))
    assert ready["sample_rate_hz"] == 22050 and ready["encoding"] == "pcm_s16le"
    with socket:
        result = StreamResult(ready)
        # the first sentence in small pieces, as an LLM streams tokens; no flush, no end
        first = sentences[0] + " "
        for start in range(0, len(first), 4):
            send_text(socket, first[start : start + 4])
        sent_at = time.perf_counter()
        item = receive_chunk(socket, timeout_s=60)
        assert isinstance(item, Chunk), item
        first_audio_s = item.received_at - sent_at
        result.chunks.append(item)
        # the rest while nothing else was asked for: the first chunk came before the paragraph was written
        rest = " ".join(sentences[1:])
        for start in range(0, len(rest), 7):
            send_text(socket, rest[start : start + 7])
        socket.send(json.dumps({"type": "end"}))
        receive_until_done(socket, result)
    _check_stream(result, sentences)
    print(f"\nfirst audio over the WebSocket {first_audio_s * 1000:.0f} ms after the sentence was complete")
    assert first_audio_s < 5.0
    assert item.header["latency_ms"] <= first_audio_s * 1000 + 50


def test_stream_first_chunk_arrives_before_the_paragraph_is_synthesised(
    gateway_url: str, speaker: users.TestUser
) -> None:
    socket, ready = open_stream(ws_url(gateway_url, access_token=speaker.access_token))
    with socket:
        send_text(socket, PARAGRAPH)
        socket.send(json.dumps({"type": "end"}))
        result = receive_until_done(socket, StreamResult(ready))
    assert len(result.chunks) == 4
    arrivals = [c.received_at for c in result.chunks]
    assert arrivals == sorted(arrivals)
    # each later sentence took time to make, after the first one had already been sent
    assert arrivals[-1] - arrivals[0] > 0.1
    assert result.chunks[0].header["latency_ms"] < result.chunks[-1].header["latency_ms"]


def test_stream_flush_speaks_an_unfinished_sentence(gateway_url: str, api_key: str) -> None:
    socket, ready = open_stream(ws_url(gateway_url, api_key=api_key))
    with socket:
        send_text(socket, "An unfinished thought")
        socket.send(json.dumps({"type": "flush"}))
        item = receive_chunk(socket)
        assert isinstance(item, Chunk) and item.header["text"] == "An unfinished thought"
        socket.send(json.dumps({"type": "end"}))
        result = receive_until_done(socket, StreamResult(ready, [item]))
    assert result.done == {"type": "done", "chunks": 1, "duration_s": item.header["duration_s"], "credits_charged": 1}


def _closed_with(url: str, *messages: str | bytes) -> tuple[dict[str, object] | None, int | None]:
    """Connect, send ``messages``, and return the error message received and the close code."""
    error = None
    with connect(url, open_timeout=10) as socket:
        for message in messages:
            socket.send(message)
        try:
            while True:
                received = socket.recv(timeout=30)
                parsed = check_message("TTSStreamServerMessage", json.loads(received))
                if parsed["type"] == "error":
                    error = parsed
        except ConnectionClosed as closed:
            return error, closed.rcvd.code if closed.rcvd else None
    return error, None


def test_stream_refuses_without_valid_credentials(gateway_url: str) -> None:
    error, code = _closed_with(ws_url(gateway_url))
    assert code == 4401 and error is not None and error["code"] == "auth" and error["hint"]
    error, code = _closed_with(ws_url(gateway_url, access_token="not-a-token"))
    assert code == 4401 and error is not None and error["code"] == "auth"


@pytest.mark.parametrize(
    ("message", "close_code", "error_code"),
    [
        ("not json", 4422, "invalid_message"),
        (json.dumps({"type": "sing"}), 4422, "invalid_message"),
        (json.dumps({"type": "text"}), 4422, "invalid_message"),
        (json.dumps({"type": "text", "text": 5}), 4422, "invalid_message"),
        (json.dumps({"type": "text", "text": "x" * 5001}), 4413, "payload_too_large"),
        (b"\x00\x01", 4415, "unsupported_media_type"),
    ],
)
def test_stream_protocol_errors(
    gateway_url: str, speaker: users.TestUser, message: str | bytes, close_code: int, error_code: str
) -> None:
    error, code = _closed_with(ws_url(gateway_url, access_token=speaker.access_token), message)
    assert code == close_code and error is not None and error["code"] == error_code


def test_stream_unknown_voice_is_refused(gateway_url: str, speaker: users.TestUser) -> None:
    error, code = _closed_with(ws_url(gateway_url, access_token=speaker.access_token, voice="nobody"))
    assert code == 4422 and error is not None and error["code"] == "unknown_voice"


def test_client_disconnect_mid_stream_leaves_the_server_working(
    gateway_url: str, client: httpx.Client, speaker: users.TestUser
) -> None:
    long_text = " ".join([PARAGRAPH] * 20)  # 80 sentences, twice: minutes of synthesis on this machine
    socket, _ = open_stream(ws_url(gateway_url, access_token=speaker.access_token))
    send_text(socket, long_text)
    send_text(socket, " " + long_text)
    socket.send(json.dumps({"type": "end"}))
    assert isinstance(receive_chunk(socket), Chunk)
    socket.close()  # leave mid-stream
    started = time.perf_counter()
    response = client.post("/v1/tts", json={"text": "Still here."}, headers=speaker.headers)
    assert response.status_code == 200, response.text
    # the abandoned stream stopped: this request waited for one sentence at most, not 159 more
    assert time.perf_counter() - started < 10.0
    socket, ready = open_stream(ws_url(gateway_url, access_token=speaker.access_token))
    with socket:
        send_text(socket, "And streaming still works.")
        socket.send(json.dumps({"type": "end"}))
        assert len(receive_until_done(socket, StreamResult(ready)).chunks) == 1


def test_stream_cancel_drops_unspoken_text(gateway_url: str, speaker: users.TestUser) -> None:
    socket, ready = open_stream(ws_url(gateway_url, access_token=speaker.access_token))
    with socket:
        send_text(socket, " ".join([PARAGRAPH] * 3))
        assert isinstance(receive_chunk(socket), Chunk)
        socket.send(json.dumps({"type": "cancel"}))
        while not isinstance(item := receive_chunk(socket), dict):
            pass  # a chunk already on its way may still arrive
        assert item == {"type": "cancelled"}
        send_text(socket, "Something else.")
        socket.send(json.dumps({"type": "end"}))
        result = receive_until_done(socket, StreamResult(ready))
    assert [c.header["text"] for c in result.chunks] == ["Something else."]


def test_stream_cancel_after_end_still_finishes(gateway_url: str, speaker: users.TestUser) -> None:
    socket, _ = open_stream(ws_url(gateway_url, access_token=speaker.access_token))
    with socket:
        send_text(socket, " ".join([PARAGRAPH] * 3))
        socket.send(json.dumps({"type": "end"}))
        assert isinstance(receive_chunk(socket), Chunk)
        socket.send(json.dumps({"type": "cancel"}))
        messages = []
        while not messages or messages[-1].get("type") != "done":
            item = receive_chunk(socket)
            messages.append(item.header if isinstance(item, Chunk) else item)
    kinds = [m["type"] for m in messages]
    assert kinds[-2:] == ["cancelled", "done"] and kinds.count("chunk") <= 1


def test_stream_over_plain_http_is_426_and_documented(client: httpx.Client) -> None:
    _assert_error(client.get("/v1/tts/stream"), 426, "upgrade_required")
    spec = client.get("/openapi.json").json()
    assert "WebSocket" in spec["paths"]["/v1/tts/stream"]["get"]["description"]
    assert {"/v1/tts", "/v1/audio/speech", "/v1/align"} <= set(spec["paths"])
