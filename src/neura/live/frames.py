"""Typed frames that flow one way through the live pipeline.

    UserText -> [LLM] -> LLMText* + LLMEnd -> [clauses] -> SpeakText* -> [TTS] -> Speech*
             -> [lip sync] -> TimedSpeech* -> [timeline sink]

Every data frame carries the ``turn_id`` it belongs to. :class:`Interrupt` is a *system* frame: it
overtakes queued data frames, and each processor that sees it drops its queue and cancels the work in
flight before passing it on, so barge-in is one path through the pipeline, not a special case per stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from neura.media import SpeechChunk, WordSpan


@dataclass(frozen=True)
class Frame:
    """Base of everything a processor receives."""


@dataclass(frozen=True)
class SystemFrame(Frame):
    """Handled at once, ahead of queued data frames."""


@dataclass(frozen=True)
class Interrupt(SystemFrame):
    """Stop speaking: cancel the LLM request, the TTS queue and the buffered audio and frames."""

    reason: str  # "user" (explicit interrupt) | "barge_in" (a new message) | "shutdown"
    up_to_turn: int  # speech of this turn and every earlier one is dropped, however late it arrives


@dataclass(frozen=True)
class DataFrame(Frame):
    turn_id: int


@dataclass(frozen=True)
class UserText(DataFrame):
    """A user's message: starts a turn."""

    text: str


@dataclass(frozen=True)
class LLMText(DataFrame):
    """A piece of the model's answer as it streams in."""

    text: str


@dataclass(frozen=True)
class LLMEnd(DataFrame):
    """The model's answer is complete (or failed; the stage already said so)."""


@dataclass(frozen=True)
class SpeakText(DataFrame):
    """A clause or sentence to speak, in order. ``index`` counts from 0 within the turn."""

    text: str
    index: int


@dataclass(frozen=True)
class Speech(DataFrame):
    """Synthesised audio of one :class:`SpeakText` (TTS sample rate, phoneme timings)."""

    chunk: SpeechChunk
    index: int


@dataclass(frozen=True)
class TimedSpeech(DataFrame):
    """Speech ready for the media timeline: 48 kHz audio and the mouth pose of every 25 fps frame
    from its first sample (frame i shows time i / 25 s after the start)."""

    text: str
    index: int
    samples_48k: npt.NDArray[np.float32]
    mouth: npt.NDArray[np.float32]  # (frames, 5): open, spread, round, close, tongue
    words: list[WordSpan] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.samples_48k) / 48_000


@dataclass(frozen=True)
class TurnEnd(DataFrame):
    """Nothing more will be said in this turn."""


# --- the input side: the user's microphone (system frames: handled inline as they arrive, in order)


@dataclass(frozen=True)
class InputFrame(SystemFrame):
    """What the microphone stages pass along; the turn controller consumes them (they never reach the
    language model's stage)."""


@dataclass(frozen=True)
class UserAudio(InputFrame):
    """20 ms of the user's microphone at 16 kHz; ``first_sample`` counts from the track's start and
    ``at_s`` is when it arrived (monotonic)."""

    samples: npt.NDArray[np.float32]
    first_sample: int
    at_s: float
    level: float  # RMS of the piece
    quiet: bool = False  # set by the voice activity stage: speech, then a piece far quieter or silent (a pause?)


@dataclass(frozen=True)
class UserSpeechOnset(InputFrame):
    """Voice for ``hold_ms`` (``LIVE_VAD_HOLD_MS``), not yet confirmed as speech: over the avatar, its voice
    is held at once. :class:`UserStartedSpeaking` confirms it; :class:`UserOnsetDropped` says it was a
    short sound (or the avatar's echo) after all."""

    at_s: float


@dataclass(frozen=True)
class UserOnsetDropped(InputFrame):
    """The sound announced by :class:`UserSpeechOnset` was not speech (too short, or the avatar's echo)."""

    at_s: float


@dataclass(frozen=True)
class UserStartedSpeaking(InputFrame):
    """Speech confirmed (or the talk button pressed); it began at ``start_sample``."""

    start_sample: int
    at_s: float  # when the speech began (monotonic, estimated from the audio's arrival)


@dataclass(frozen=True)
class UserStoppedSpeaking(InputFrame):
    """A pause after speech (or the talk button released): the speech ended at ``end_sample``. The user
    may go on; the turn controller decides when the turn is over."""

    end_sample: int
    at_s: float  # when the last voiced audio arrived
    released: bool = False  # push-to-talk: the button was released (the turn ends at once)


@dataclass(frozen=True)
class UserPausing(InputFrame):
    """A short silence after speech (``LIVE_STT_EARLY_FINAL_MS``): the speech may have ended at
    ``end_sample``. The final decode starts on it; :class:`UserStoppedSpeaking` follows unless the
    voice comes back."""

    end_sample: int


@dataclass(frozen=True)
class Transcript(InputFrame):
    """What the user said in one stretch of speech (``final``) or so far (a partial)."""

    text: str
    final: bool
    end_sample: int  # the stretch's end (finals) or the audio decoded so far (partials)
    logprob: float = 0.0  # the decoder's confidence: the lowest average log-probability of its segments


@dataclass(frozen=True)
class VoiceMode(InputFrame):
    """``hands_free`` (voice activity detection) or ``push_to_talk``."""

    mode: str


@dataclass(frozen=True)
class TalkButton(InputFrame):
    """Push-to-talk: the button was pressed or released."""

    pressed: bool
    at_s: float


@dataclass(frozen=True)
class HoldSpeech(SystemFrame):
    """Pause the avatar's voice where it is (the user may be barging in); :class:`ResumeSpeech` plays on
    from there, an :class:`Interrupt` drops what was held."""


@dataclass(frozen=True)
class ResumeSpeech(SystemFrame):
    """It was not a barge-in (a back-channel, a noise): play on from where the voice was held."""


@dataclass(frozen=True)
class HoldTurn(SystemFrame):
    """A speculative reply: the turn controller started ``turn_id`` before the user's turn was confirmed
    (the silence after their speech is not long enough yet). The sink keeps the turn's speech off the
    timeline until :class:`PlayTurn`; an :class:`Interrupt` (the user spoke on) drops it, unheard."""

    turn_id: int


@dataclass(frozen=True)
class PlayTurn(SystemFrame):
    """The held turn is confirmed: its speech goes on the timeline (what was kept first, at once)."""

    turn_id: int
