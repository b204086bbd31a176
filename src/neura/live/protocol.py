"""The data channel ``"neura"``: JSON text messages, one object each, with a ``type``.

The session parses and sends exactly these models; ``neura schemas`` exports them as JSON Schema (the
web app's TypeScript types are generated from it), so the protocol is the code, not a copy of it.

Client -> server (:data:`LiveClientMessage`)::

    {"type": "message", "text": "What day is it?"}     a user message (barge-in when the avatar speaks)
    {"type": "interrupt"}                               stop speaking now
    {"type": "ping", "id": 7}                           answered by {"type": "pong", "id": 7}
    {"type": "voice_mode", "mode": "hands_free" | "push_to_talk"}   how the microphone is heard
    {"type": "talk", "pressed": true}                   push-to-talk: heard only while pressed

Server -> client (:data:`LiveServerMessage`)::

    {"type": "state", "state": "listening" | "thinking" | "speaking", "turn_id": 3}
    {"type": "transcript", "role": "user" | "avatar", "turn_id": 3, "text": "...", "final": false}
        the avatar's text arrives clause by clause as it is spoken (final: false), then once whole
        (final: true; cut short when interrupted)
    {"type": "latency", "turn_id": 3, "llm_first_token_ms": 61.2, "first_clause_ms": 88.0,
     "first_audio_ms": 190.4, "first_audio_sent_ms": 221.0, "first_frame_sent_ms": 224.9}
        milliseconds from the message's arrival, sent when the turn's first frame has been sent
    {"type": "error", "code": "llm_unavailable", "message": "...", "hint": null, "turn_id": 3}
    {"type": "closed", "reason": "deleted" | "idle" | "disconnected" | "credits" | "shutdown" | ...}
    {"type": "pong", "id": 7}
    {"type": "user_speech", "speaking": true, "turn_id": 4, "ignored": false}
        the user started / stopped speaking (microphone sessions); ``ignored``: not taken as a turn
    the user's transcript while they speak: {"type": "transcript", "role": "user", "final": false, ...}

The microphone is the audio transceiver of the client's SDP offer with direction ``sendrecv``
(``recvonly``: a text-only session). docs/live.md ("Voice") has the whole voice protocol.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from neura.errors import InputError, InvalidMessageError, WireError, wire_error
from neura.live.events import Role, State
from neura.live.turns import REPORTED_STAGES, Turn
from neura.storable import require_storable

CHANNEL_LABEL = "neura"
MAX_MESSAGE_CHARS = 4000
PingId = int | str | None

# --- client -> server


class LiveSay(BaseModel):
    """A user message: the avatar answers it (interrupting itself if it is speaking)."""

    type: Literal["message"]
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class LiveInterrupt(BaseModel):
    """Stop speaking now."""

    type: Literal["interrupt"]


class LivePing(BaseModel):
    type: Literal["ping"]
    id: PingId = None


class LiveVoiceMode(BaseModel):
    """How the microphone is heard: ``hands_free`` (the default: voice activity detection ends turns)
    or ``push_to_talk`` (heard only while the talk button is pressed)."""

    type: Literal["voice_mode"]
    mode: Literal["hands_free", "push_to_talk"]


class LiveTalk(BaseModel):
    """Push-to-talk: the button was pressed (the avatar stops if it speaks) or released (the turn ends)."""

    type: Literal["talk"]
    pressed: bool


LiveClientMessage = Annotated[
    LiveSay | LiveInterrupt | LivePing | LiveVoiceMode | LiveTalk, Field(discriminator="type")
]
LIVE_CLIENT_MESSAGE: TypeAdapter[LiveClientMessage] = TypeAdapter(LiveClientMessage)

# --- server -> client


class _Sent(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # every field is always sent


class LiveState(_Sent):
    type: Literal["state"] = "state"
    state: State
    turn_id: int | None


class LiveTranscript(_Sent):
    """The user's message, or the avatar's text clause by clause as it plays (``final: false``), then
    once whole (``final: true``; cut short when interrupted)."""

    type: Literal["transcript"] = "transcript"
    role: Role
    turn_id: int
    text: str
    final: bool


class LiveLatency(_Sent):
    """Milliseconds from the message's arrival (a spoken turn: from the end of the user's speech) to each
    stage (null: not reached)."""

    type: Literal["latency"] = "latency"
    turn_id: int
    llm_first_token_ms: float | None
    first_clause_ms: float | None
    first_audio_ms: float | None
    first_audio_sent_ms: float | None
    first_frame_sent_ms: float | None

    @classmethod
    def of(cls, turn: Turn) -> LiveLatency:
        return cls(turn_id=turn.turn_id, **{f"{stage}_ms": turn.stages_ms.get(stage) for stage in REPORTED_STAGES})


class LiveError(WireError):
    """Something went wrong (``code`` as in the HTTP API's errors: llm_unavailable, payment_required,
    invalid_message...); the session goes on unless a ``closed`` follows."""

    type: Literal["error"] = "error"
    turn_id: int | None = None

    @classmethod
    def of(cls, exc: BaseException, turn_id: int | None = None) -> LiveError:
        wire, _ = wire_error(exc)
        return cls(**wire.model_dump(), turn_id=turn_id)


class LiveClosed(_Sent):
    """The session ended: deleted, idle, disconnected, credits, plan_minutes_used, media_error, shutdown."""

    type: Literal["closed"] = "closed"
    reason: str


class LiveUserSpeech(_Sent):
    """The user started (``speaking: true``) or stopped speaking. ``turn_id``: the turn this speech
    becomes (the same id as its transcripts); ``ignored: true`` (with ``speaking: false``): it was not
    taken as a turn (a noise, a back-channel such as "mm-hm", nothing recognised, the avatar's echo)."""

    type: Literal["user_speech"] = "user_speech"
    speaking: bool
    turn_id: int
    ignored: bool = False


class LivePong(_Sent):
    type: Literal["pong"] = "pong"
    id: PingId = None


LiveServerMessage = Annotated[
    LiveState | LiveTranscript | LiveLatency | LiveError | LiveClosed | LivePong | LiveUserSpeech,
    Field(discriminator="type"),
]


def check_text(text: str) -> str:
    text = require_storable(text, "the message").strip()
    if not text:
        raise InputError("the message is empty", hint="send some text for the avatar to answer")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InputError(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
    return text


def parse_client_message(raw: str | bytes) -> LiveClientMessage:
    """One data-channel message; :class:`InvalidMessageError` when it is not one the protocol knows."""
    try:
        message = LIVE_CLIENT_MESSAGE.validate_json(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        if problem["type"] in ("json_invalid", "model_attributes_type", "model_type"):
            raise InvalidMessageError("data-channel messages must be JSON objects") from None
        if problem["type"] in ("union_tag_invalid", "union_tag_not_found"):
            raise InvalidMessageError(
                f"unknown data-channel message type {problem['input'].get('type')!r}",
                hint="use 'message', 'interrupt', 'ping', 'voice_mode' or 'talk'",
            ) from None
        where = ".".join(str(part) for part in problem["loc"][1:])
        raise InvalidMessageError(f"{where or 'message'}: {problem['msg']}") from None
    if isinstance(message, LiveSay):
        try:
            check_text(message.text)
        except InputError as exc:
            raise InvalidMessageError(exc.message, hint=exc.hint) from None
    return message
