"""Speech costs credits: one per started 1,000 characters spoken (or aligned), charged before the work,
given back when it fails, refused with 402 when the balance is short, and charged block by block on
the streaming WebSocket."""

from __future__ import annotations

import io
import json
import uuid
import wave

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed

from tests.platform import users
from tests.platform.db import fetchval
from tests.platform.speech_client import open_stream, receive_chunk, send_text, ws_url
from tests.platform.videos import balance, set_account

SENTENCE = "The tide comes in twice a day, pulled by the Moon and, a little, by the Sun. "  # 77 characters


def speech_ledger(database_url: str, user: users.TestUser) -> list[tuple[str, int]]:
    rows = fetchval(
        database_url,
        "SELECT coalesce(json_agg(json_build_array(reason, delta) ORDER BY id), '[]') FROM credit_ledger"
        " WHERE user_id = $1 AND reason LIKE 'speech%'",
        uuid.UUID(user.user_id),
    )
    return [tuple(row) for row in json.loads(rows)]


def test_speech_is_charged_per_started_thousand_characters(client: httpx.Client, database_url: str) -> None:
    user = users.signup(client)
    start = balance(database_url, user)
    text = (SENTENCE * 14).strip()  # 1,077 characters: two credits
    spoken = client.post("/v1/tts", json={"text": text, "format": "mp3"}, headers=user.headers)
    assert spoken.status_code == 200, spoken.text
    assert spoken.json()["credits_charged"] == 2
    assert spoken.headers["X-Credits-Charged"] == "2"
    assert int(spoken.headers["X-Credits-Remaining"]) == start - 2 == balance(database_url, user)

    openai_style = client.post(
        "/v1/audio/speech", json={"model": "tts-1", "input": SENTENCE, "voice": "alloy"}, headers=user.headers
    )
    assert openai_style.status_code == 200 and openai_style.headers["X-Credits-Charged"] == "1"
    assert balance(database_url, user) == start - 3
    assert speech_ledger(database_url, user) == [("speech", -2), ("speech", -1)]


def test_without_credits_speech_is_402_and_nothing_is_spoken(client: httpx.Client, database_url: str) -> None:
    user = users.signup(client)
    set_account(database_url, user, credits=0)
    for path, body in (
        ("/v1/tts", {"text": SENTENCE}),
        ("/v1/audio/speech", {"model": "tts-1", "input": SENTENCE, "voice": "alloy"}),
    ):
        refused = client.post(path, json=body, headers=user.headers)
        assert refused.status_code == 402, refused.text
        assert refused.json()["error"]["code"] == "payment_required"
        assert not refused.headers["content-type"].startswith("audio/")
    assert balance(database_url, user) == 0 and speech_ledger(database_url, user) == []


def test_failed_work_gives_the_credits_back(client: httpx.Client, database_url: str) -> None:
    user = users.signup(client)
    start = balance(database_url, user)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(np.zeros(32000, np.int16).tobytes())
    silent = client.post(
        "/v1/align",
        files={"audio": ("silence.wav", buffer.getvalue(), "audio/wav")},
        data={"transcript": "hello there"},
        headers=user.headers,
    )
    assert silent.status_code == 422, silent.text
    assert balance(database_url, user) == start
    assert speech_ledger(database_url, user) == [("speech", -1), ("speech_refund", 1)]


def test_the_stream_charges_block_by_block_and_closes_when_credits_run_out(
    gateway_url: str, client: httpx.Client, database_url: str
) -> None:
    user = users.signup(client)
    set_account(database_url, user, credits=1)  # covers the first 1,000 characters spoken
    socket, _ = open_stream(ws_url(gateway_url, access_token=user.access_token))
    spoken: list[str] = []
    error, close_code = None, None
    with socket:
        for _ in range(16):  # 1,232 characters, sentence by sentence
            send_text(socket, SENTENCE)
        socket.send(json.dumps({"type": "end"}))
        try:
            while True:
                item = receive_chunk(socket)
                if isinstance(item, dict):
                    assert item["type"] == "error", item
                    error = item
                else:
                    spoken.append(item.header["text"])
        except ConnectionClosed as closed:
            close_code = closed.rcvd.code if closed.rcvd else None
    assert error is not None and error["code"] == "payment_required", error
    assert close_code == 4402
    characters = sum(len(text) for text in spoken)  # what the one credit paid for, up to the next sentence
    assert 1000 - len(SENTENCE) < characters <= 1000, f"{characters} characters spoken in {len(spoken)} chunks"
    assert balance(database_url, user) == 0
    assert speech_ledger(database_url, user) == [("speech", -1)]


@pytest.mark.parametrize("chars", [1, 999, 1000, 1001, 5000])
def test_credits_for_speech(chars: int) -> None:
    from neura.billing import credits_for_speech

    assert credits_for_speech(chars) == -(-chars // 1000)
