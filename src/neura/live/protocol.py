"""The data channel ``"neura"``: JSON text messages, one object each, with a ``type``.

Client -> server::

    {"type": "message", "text": "What day is it?"}     a user message (barge-in when the avatar speaks)
    {"type": "interrupt"}                               stop speaking now
    {"type": "ping", "id": 7}                           answered by {"type": "pong", "id": 7}

Server -> client::

    {"type": "state", "state": "listening" | "thinking" | "speaking", "turn_id": 3}
    {"type": "transcript", "role": "user" | "avatar", "turn_id": 3, "text": "...", "final": false}
        the avatar's text arrives clause by clause as it is spoken (final: false), then once whole
        (final: true; cut short when interrupted)
    {"type": "latency", "turn_id": 3, "llm_first_token_ms": 61.2, "first_clause_ms": 88.0,
     "first_audio_ms": 190.4, "first_audio_sent_ms": 221.0, "first_frame_sent_ms": 224.9}
        milliseconds from the message's arrival, sent when the turn's first frame has been sent
    {"type": "error", "code": "llm_unavailable", "message": "...", "turn_id": 3}
    {"type": "closed", "reason": "deleted" | "idle" | "disconnected" | "credits" | "shutdown" | ...}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from neura.errors import InputError
from neura.live.events import Role, State
from neura.live.turns import REPORTED_STAGES, Turn
from neura.storable import require_storable

CHANNEL_LABEL = "neura"
MAX_MESSAGE_CHARS = 4000


@dataclass(frozen=True)
class SayText:
    text: str


@dataclass(frozen=True)
class InterruptRequest:
    pass


@dataclass(frozen=True)
class Ping:
    id: Any


ClientMessage = SayText | InterruptRequest | Ping


def check_text(text: str) -> str:
    text = require_storable(text, "the message").strip()
    if not text:
        raise InputError("the message is empty", hint="send some text for the avatar to answer")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InputError(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
    return text


def parse_client_message(raw: str | bytes) -> ClientMessage:
    """One data-channel message; :class:`InputError` when it is not one we know."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError("data-channel messages must be JSON objects") from exc
    if not isinstance(data, dict):
        raise InputError("data-channel messages must be JSON objects")
    kind = data.get("type")
    if kind == "message":
        text = data.get("text")
        if not isinstance(text, str):
            raise InputError("a 'message' needs a 'text' string")
        return SayText(check_text(text))
    if kind == "interrupt":
        return InterruptRequest()
    if kind == "ping":
        return Ping(data.get("id"))
    raise InputError(f"unknown data-channel message type {kind!r}", hint="use 'message', 'interrupt' or 'ping'")


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def state_message(state: State, turn_id: int | None) -> dict[str, Any]:
    return {"type": "state", "state": state, "turn_id": turn_id}


def transcript_message(role: Role, turn_id: int, text: str, *, final: bool) -> dict[str, Any]:
    return {"type": "transcript", "role": role, "turn_id": turn_id, "text": text, "final": final}


def latency_message(turn: Turn) -> dict[str, Any]:
    figures = {f"{stage}_ms": turn.stages_ms.get(stage) for stage in REPORTED_STAGES}
    return {"type": "latency", "turn_id": turn.turn_id, **figures}


def error_message(code: str, message: str, turn_id: int | None = None) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, "turn_id": turn_id}


def closed_message(reason: str) -> dict[str, Any]:
    return {"type": "closed", "reason": reason}
