"""What the live pipeline and the media tracks report, for the session to forward and count.

Processors and tracks never know who listens: they emit these values into an :class:`EventSink`
(the session drains it, updates its statistics and Prometheus, and writes the data channel).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from neura.errors import wire_error

State = Literal["listening", "thinking", "speaking"]
Stage = Literal["llm_first_token", "first_clause", "first_audio", "first_audio_sent", "first_frame_sent"]
Role = Literal["user", "avatar"]


@dataclass(frozen=True)
class LiveEvent:
    at_s: float = field(default_factory=time.monotonic, kw_only=True)


@dataclass(frozen=True)
class StageReached(LiveEvent):
    """A turn reached a latency milestone (first LLM token, first TTS audio, first frame sent...)."""

    turn_id: int
    stage: Stage


@dataclass(frozen=True)
class SpeechStarted(LiveEvent):
    """A clause began to play (its first audio sample was sent)."""

    turn_id: int
    text: str


@dataclass(frozen=True)
class SpeechCut(LiveEvent):
    """An interruption cut a playing clause: only ``spoken`` was heard."""

    turn_id: int
    spoken: str


@dataclass(frozen=True)
class TurnPlayed(LiveEvent):
    """The last clause of a turn finished playing."""

    turn_id: int


@dataclass(frozen=True)
class ErrorRaised(LiveEvent):
    """A stage failed on a turn (the session reports ``error`` the way every channel does: wire_error)."""

    turn_id: int | None
    error: BaseException

    @property
    def code(self) -> str:
        return wire_error(self.error)[0].code


EventSink = Callable[[LiveEvent], None]


def discard(event: LiveEvent) -> None:
    """An :data:`EventSink` that drops everything (tests of a single stage)."""


@dataclass(frozen=True)
class TurnInterrupted(LiveEvent):
    """The session interrupted this turn (after any :class:`SpeechCut` it caused)."""

    turn_id: int


@dataclass(frozen=True)
class UserSpeech(LiveEvent):
    """The user started or stopped speaking (``turn_id``: the turn this speech would become);
    ``ignored``: the speech was not taken as a turn (a noise, a back-channel, the avatar's echo)."""

    turn_id: int
    speaking: bool
    ignored: bool


@dataclass(frozen=True)
class UserTranscript(LiveEvent):
    """What the user has said so far in the turn being spoken (a partial transcript)."""

    turn_id: int
    text: str


@dataclass(frozen=True)
class VoiceTurn(LiveEvent):
    """The user's spoken turn is over: ``text`` starts turn ``turn_id`` (``at_s``: the end of the speech)."""

    turn_id: int
    text: str


@dataclass(frozen=True)
class VoiceBargeIn(LiveEvent):
    """The user's voice interrupted the avatar (the turns before ``turn_id`` are cut)."""

    turn_id: int


@dataclass(frozen=True)
class SpeculativeReply(LiveEvent):
    """The reply to turn ``turn_id`` started before the turn was confirmed (its speech is held back): the
    stages it reaches are timed once :class:`VoiceTurn` starts the turn. ``cancelled``: the user spoke on,
    that reply is void (its stages are forgotten)."""

    turn_id: int
    cancelled: bool = False
