"""The contract a generated client is built from, printed by the CLI without a server or database:
``neura openapi`` (the HTTP API) and ``neura schemas`` (the realtime messages). The realtime schema is
exported from the very models the gateway parses and sends with, so the parser and the schema agree on
what is a valid message; every test client also checks what it receives against it (tests/realtime.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from neura.errors import InvalidMessageError, PaymentRequiredError
from neura.gateway.routes.tts_stream import parse_message
from neura.live.protocol import LiveError, LiveLatency, LiveState, LiveTranscript, parse_client_message
from neura.live.turns import REPORTED_STAGES, Turn
from tests.realtime import check_message, validator

HOSTILE_ENV = {  # no database, no Redis, production settings with no secrets: none of it is needed
    "ENV": "production",
    "DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
    "REDIS_URL": "redis://127.0.0.1:1/0",
}


def _cli(*args: str) -> dict[str, Any]:
    env = {**os.environ, **HOSTILE_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "neura.cli", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_neura_openapi_prints_the_schema_without_a_database() -> None:
    spec = _cli("openapi")
    assert spec["info"]["title"] == "NEURA API"
    assert spec["paths"]["/v1/videos"]["post"]["operationId"] == "createVideo"
    assert "ErrorBody" in spec["components"]["schemas"]


def test_neura_schemas_prints_one_json_schema_of_every_channel() -> None:
    schema = _cli("schemas")
    Draft202012Validator.check_schema(schema)
    channels = {
        "LiveClientMessage",
        "LiveServerMessage",
        "TTSStreamClientMessage",
        "TTSStreamServerMessage",
        "VideoEvent",
        "VideoEventsSocketMessage",
    }
    assert set(schema["properties"]) == channels
    for name in channels - {"VideoEventsSocketMessage"}:
        assert schema["$defs"][name]["discriminator"]["propertyName"] == "type", name
    live = schema["$defs"]["LiveServerMessage"]["discriminator"]["mapping"]
    assert set(live) == {"state", "transcript", "latency", "error", "closed", "pong", "user_speech"}
    assert schema["$defs"]["LiveState"]["required"] == ["type", "state", "turn_id"]  # sent: always present


CLIENT_SAMPLES = [
    ({"type": "message", "text": "What day is it?"}, True),
    ({"type": "interrupt"}, True),
    ({"type": "ping", "id": 7}, True),
    ({"type": "ping"}, True),
    ({"type": "message"}, False),
    ({"type": "message", "text": 5}, False),
    ({"type": "message", "text": ""}, False),
    ({"type": "message", "text": "x" * 4001}, False),
    ({"type": "sing"}, False),
    ({"type": "voice_mode", "mode": "push_to_talk"}, True),
    ({"type": "voice_mode", "mode": "shouting"}, False),
    ({"type": "talk", "pressed": True}, True),
    ({"type": "talk"}, False),
    ({"text": "no type"}, False),
    (["message"], False),
]


@pytest.mark.parametrize(("message", "valid"), CLIENT_SAMPLES)
def test_the_data_channel_parser_and_the_schema_agree(message: Any, valid: bool) -> None:
    assert validator("LiveClientMessage").is_valid(message) is valid
    if valid:
        assert parse_client_message(json.dumps(message)).type == message["type"]
    else:
        with pytest.raises(InvalidMessageError):
            parse_client_message(json.dumps(message))


TTS_SAMPLES = [
    ({"type": "text", "text": "Hello there."}, True),
    ({"type": "flush"}, True),
    ({"type": "cancel"}, True),
    ({"type": "end"}, True),
    ({"type": "text"}, False),
    ({"type": "text", "text": None}, False),
    ({"type": "sing"}, False),
    ("text", False),
]


@pytest.mark.parametrize(("message", "valid"), TTS_SAMPLES)
def test_the_tts_stream_parser_and_the_schema_agree(message: Any, valid: bool) -> None:
    assert validator("TTSStreamClientMessage").is_valid(message) is valid
    if valid:
        assert parse_message(json.dumps(message)).type == message["type"]
    else:
        with pytest.raises(InvalidMessageError):
            parse_message(json.dumps(message))


def test_what_the_session_sends_matches_the_schema() -> None:
    turn = Turn(3, "hi", 0.0)
    turn.reach("llm_first_token", 0.061)
    sent = [
        LiveState(state="thinking", turn_id=3),
        LiveTranscript(role="avatar", turn_id=3, text="Hello.", final=False),
        LiveLatency.of(turn),
        LiveError.of(PaymentRequiredError("no credits left", hint="buy some"), turn_id=3),
        LiveError.of(RuntimeError("a bug's text never leaks")),
    ]
    messages = [check_message("LiveServerMessage", json.loads(m.model_dump_json())) for m in sent]
    assert messages[2]["llm_first_token_ms"] == 61.0 and messages[2]["first_frame_sent_ms"] is None
    assert set(LiveLatency.model_fields) - {"type", "turn_id"} == {f"{stage}_ms" for stage in REPORTED_STAGES}
    assert messages[3] == {
        "type": "error",
        "code": "payment_required",  # the same code as the HTTP API's 402
        "message": "no credits left",
        "hint": "buy some",
        "turn_id": 3,
    }
    assert messages[4]["code"] == "internal" and messages[4]["message"] == "internal server error"
