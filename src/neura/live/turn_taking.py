"""Turn-taking by voice: when the user's turn is over, and when their voice interrupts the avatar.

The :class:`TurnController` is the last stage of the input side (:mod:`neura.live.hearing`) and sits
just before the language model. It consumes the input frames and emits, downstream, what the output
side knows: :class:`~neura.live.frames.UserText` (a turn), :class:`~neura.live.frames.Interrupt`
(barge-in), :class:`~neura.live.frames.HoldSpeech` / :class:`~neura.live.frames.ResumeSpeech`.

* End of turn (hands-free): every stretch of speech is transcribed at its first pause; the turn ends
  once no speech came for ``complete_silence_ms`` after a sentence that is clearly over (it ends with
  ".", "?" or "!" and looks complete), ``turn_silence_ms`` after one that looks complete, or
  ``incomplete_silence_ms`` after one that does not ("and", "the", a comma at the end). Push-to-talk:
  releasing the button ends the turn as soon as the transcript is ready.
* Speculation (``speculate``): while that silence runs, the reply to the transcript so far is already
  started (the language model, the first clause's synthesis and lip sync), its speech kept by the
  pipeline's sink (:class:`~neura.live.frames.HoldTurn`) until the turn is confirmed
  (:class:`~neura.live.frames.PlayTurn`). When the user speaks on, it is cancelled (an ``Interrupt``
  for nothing before this turn): nothing was heard, the rate limits were not charged (``admit`` runs at
  the confirmation) and the session never saw the turn, so nothing enters the conversation's history.
  Only when the avatar is silent (over the avatar, speech goes through the hold / barge-in path).
* Barge-in: voice over the avatar *holds* its voice at once: from ``onset_ms`` of it (``LIVE_VAD_HOLD_MS``,
  before it is confirmed as speech), played on at once when it stops short of ``min_speech_ms`` (a cough,
  a click: :class:`~neura.live.frames.UserOnsetDropped`) or turns out to be the avatar's echo;
  speech confirmed over the avatar (``min_speech_ms`` of voice) keeps it held; the avatar is cut (the
  ordinary interrupt) when the speech becomes a turn, or earlier when a partial transcript shows four
  words or more after ``barge_in_ms`` of it; it plays on from where it stopped when the speech was a
  back-channel ("mm-hm", "okay"), nothing recognisable, or the avatar's own words coming back (echo),
  once the silence after it is as long as a turn's (``turn_silence_ms``: "So, tell me..." may go on
  after a "So." the decoder was unsure of); speech with a word asking it to stop ("wait", "stop",
  "sorry", "no"...) is never taken for a back-channel or a noise.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from neura.config import Settings
from neura.errors import NeuraError
from neura.live.events import ErrorRaised, SpeculativeReply, UserSpeech, UserTranscript, VoiceBargeIn, VoiceTurn
from neura.live.frames import (
    Frame,
    HoldSpeech,
    HoldTurn,
    InputFrame,
    Interrupt,
    PlayTurn,
    ResumeSpeech,
    Transcript,
    UserAudio,
    UserOnsetDropped,
    UserSpeechOnset,
    UserStartedSpeaking,
    UserStoppedSpeaking,
    UserText,
    VoiceMode,
)
from neura.live.processor import Processor
from neura.live.protocol import MAX_MESSAGE_CHARS
from neura.live.turns import TurnCounter
from neura.stt.base import SAMPLE_RATE_HZ
from neura.stt.vad import VadConfig

log = logging.getLogger(__name__)

BACKCHANNEL = frozenset(
    {"mm", "mmm", "mm-hm", "mm-hmm", "mhm", "mhmm", "hm", "hmm", "uh-huh", "uh", "huh", "um", "uhm", "ah", "oh"}
    | {"okay", "ok", "yeah", "yep", "yes", "right", "sure", "alright", "wow", "nice", "cool", "great"}
)
BACKCHANNEL_PHRASES = frozenset({"i see", "got it", "uh huh", "mm hm", "all right", "oh okay", "okay okay"})
SHORT_SPEECH_MS = 1200  # over the avatar, speech this short...
UNSURE_LOGPROB = -0.75  # ...decoded with less confidence than this is not a turn (Whisper's "mm-hm" guesses)
STOPPING_WORDS = frozenset(
    {"wait", "stop", "hold", "hang", "pause", "sorry", "excuse", "actually", "no", "nope", "but"}
)
"""Words that ask the avatar to stop or yield, however unsure the decoder was of them ("Wait." alone
decodes at about -0.76): speech with one of them is never taken for a noise or a back-channel."""
UNFINISHED_ENDINGS = frozenset(
    {"and", "or", "but", "so", "because", "the", "a", "an", "to", "of", "with", "for", "in", "on", "at", "my"}
    | {"your", "is", "are", "was", "what", "which", "that", "if", "when", "about", "like", "um", "uh"}
)
FUNCTION_WORDS = UNFINISHED_ENDINGS | frozenset(
    [
        "me",
        "you",
        "i",
        "it",
        "we",
        "they",
        "he",
        "she",
        "this",
        "there",
        "do",
        "does",
        "did",
        "be",
        "can",
        "will",
        "would",
        "not",
        "no",
        "all",
        "more",
        "some",
        "how",
        "why",
        "who",
        "where",
    ]
)


@dataclass(frozen=True)
class VoiceConfig:
    """What the input side is tuned by (the ``LIVE_VAD_*``, ``LIVE_TURN_*`` and ``LIVE_STT_*`` settings)."""

    vad: VadConfig = field(
        default_factory=lambda: VadConfig(min_speech_ms=250, end_silence_ms=200, onset_ms=64, pausing_ms=100)
    )
    turn_silence_ms: int = 500
    incomplete_silence_ms: int = 1200
    complete_silence_ms: int = 300
    speculate: bool = True
    barge_in_ms: int = 1000
    echo_correlation: float = 0.9
    stt_beam_size: int = 5
    stt_partial_ms: int = 800

    @classmethod
    def of(cls, settings: Settings) -> VoiceConfig:
        threshold = settings.live_vad_threshold
        return cls(
            vad=VadConfig(
                start_probability=threshold,
                end_probability=max(0.01, threshold - 0.15),
                min_speech_ms=settings.live_vad_min_speech_ms,
                end_silence_ms=settings.live_vad_pause_ms,
                onset_ms=settings.live_vad_hold_ms,
                pausing_ms=settings.live_stt_early_final_ms,
            ),
            turn_silence_ms=settings.live_turn_silence_ms,
            incomplete_silence_ms=settings.live_turn_incomplete_silence_ms,
            complete_silence_ms=settings.live_turn_complete_silence_ms,
            speculate=settings.live_turn_speculate,
            barge_in_ms=settings.live_barge_in_ms,
            echo_correlation=settings.live_echo_correlation,
            stt_beam_size=settings.live_stt_beam_size,
            stt_partial_ms=settings.live_stt_partial_ms,
        )


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text.lower())


def is_backchannel(text: str) -> bool:
    """A listener's acknowledgement ("mm-hm", "uh-huh, okay"), not something to answer."""
    words = words_of(text)
    if not words or len(words) > 3:
        return False
    return " ".join(words) in BACKCHANNEL_PHRASES or all(word in BACKCHANNEL for word in words)


def is_speech(text: str) -> bool:
    """Words, not Whisper's notes on a noise ("[coughs]", "(laughs)", "*sigh*") or bare punctuation."""
    without_notes = re.sub(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*", " ", text)
    return bool(words_of(without_notes))


def is_echo_of(text: str, avatar_text: str) -> bool:
    """Whether the user's words are the avatar's own (its voice came back through the microphone):
    three words or more, and most of the words that carry meaning (two at least) in what the avatar just
    said ("the", "me", "about" prove nothing: a question about the answer shares them)."""
    words, said = words_of(text), set(words_of(avatar_text))
    meaning = [word for word in words if word not in FUNCTION_WORDS]
    return len(words) >= 3 and len(meaning) >= 2 and sum(word in said for word in meaning) >= 0.6 * len(meaning)


def looks_complete(text: str) -> bool:
    """Whether the sentence looks finished: not ending in a comma, a dash, "..." or a word such as
    "and" or "the" after which people go on."""
    stripped = text.strip()
    if not stripped or stripped.endswith((",", "-", "...", "…", ":")):
        return False
    words = words_of(stripped)
    return bool(words) and words[-1] not in UNFINISHED_ENDINGS


def clearly_complete(text: str) -> bool:
    """A sentence that is over: it looks complete and ends with a full stop, "?" or "!" (Whisper's
    punctuation: a trailing "and" or "the" gets none, or :func:`looks_complete` catches it). One word
    with a full stop is not: Whisper writes "Wait." for the "Wait," that opens "Wait, what about...",
    whose comma pause must not end the turn."""
    stripped = text.strip().rstrip("\"')”’")
    if not stripped.endswith((".", "?", "!")) or stripped.endswith("...") or not looks_complete(stripped):
        return False
    return stripped.endswith(("?", "!")) or len(words_of(stripped)) >= 2


class TurnController(Processor):
    def __init__(
        self,
        counter: TurnCounter,
        avatar_speaking: Callable[[], bool],
        config: VoiceConfig,
        *,
        avatar_text: Callable[[], str] = str,
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``avatar_text``: what the avatar said in the last few seconds (the echo check by words)."""
        super().__init__()
        self.counter = counter
        self.avatar_speaking = avatar_speaking
        self.avatar_text = avatar_text
        self.config = config
        self.admit = admit
        self.mode = "hands_free"
        self._reset()
        self._onset_pending = False  # voice began (UserSpeechOnset), not yet confirmed or dropped: no silence
        self._now = 0  # the latest audio sample heard
        self._lock = asyncio.Lock()  # frames come from the microphone's task and the transcription jobs

    async def process(self, frame: Frame) -> None:
        if isinstance(frame, InputFrame | Interrupt):
            async with self._lock:
                await self._handle(frame)
        else:
            await self.push(frame)

    def _reset(self) -> None:
        self.turn_id: int | None = None
        self._finals: list[str] = []
        self._lengths: deque[int] = deque()  # samples of each stopped stretch whose transcript is awaited
        self._overheard = True  # every stretch so far was not for the avatar (see _overheard_stretch)
        self._speaking = False
        self._segment_start = 0
        self._awaiting = 0  # stretches stopped whose final transcript has not come yet
        self._end_sample = 0
        self._ended_s = 0.0
        self._released = False
        self._held = False  # this speech holds the avatar's voice
        self._barged_in = False
        self._speculated: str | None = None  # the text a speculative reply of this turn answers

    async def _handle(self, frame: Frame) -> None:
        if not isinstance(frame, UserAudio):
            log.debug("turn controller: %s (turn %s)", frame, self.turn_id)
        if isinstance(frame, UserAudio):
            self._now = frame.first_sample + frame.samples.size
            await self._check_end()
        elif isinstance(frame, UserSpeechOnset):
            self._onset_pending = True
            if self.mode == "hands_free" and not self._held and not self._barged_in and self.avatar_speaking():
                self._held = True  # maybe the user barging in: silent now, decided when it is (or is not) speech
                await self.push(HoldSpeech())
        elif isinstance(frame, UserOnsetDropped):
            self._onset_pending = False
            if self.turn_id is None and self._held:  # a short sound, not speech: play on
                self._held = False
                await self.push(ResumeSpeech())
            await self._check_end()  # the silence goes on
        elif isinstance(frame, UserStartedSpeaking):
            self._onset_pending = False
            await self._started(frame)
        elif isinstance(frame, UserStoppedSpeaking):
            if self._speaking:
                self._speaking, self._awaiting = False, self._awaiting + 1
                self._end_sample, self._ended_s, self._released = frame.end_sample, frame.at_s, frame.released
                self._lengths.append(max(0, frame.end_sample - self._segment_start))
                self.emit(UserSpeech(self._turn(), speaking=False, ignored=False))
        elif isinstance(frame, Transcript):
            await self._transcript(frame)
        elif isinstance(frame, VoiceMode):
            self.mode = frame.mode
            self._onset_pending = False  # the voice detector starts afresh
        elif isinstance(frame, Interrupt):
            self._speculated = None  # the interrupt cancels a speculative reply too
            if self.turn_id is not None and frame.up_to_turn >= self.turn_id:  # a typed message overtook it
                await self._drop()
            self._held = False
            await self.push(frame)

    async def _started(self, frame: UserStartedSpeaking) -> None:
        if self.turn_id is None:
            self.turn_id = self.counter.next()
        await self._cancel_speculation()  # the user speaks on: the reply to what they said so far is void
        self._speaking, self._segment_start = True, frame.start_sample
        self.emit(UserSpeech(self.turn_id, speaking=True, ignored=False))
        if self._barged_in or not self.avatar_speaking():
            return
        if self.mode == "push_to_talk":  # pressing the button is intent enough
            await self._barge_in()
        elif not self._held:
            self._held = True
            await self.push(HoldSpeech())

    async def _transcript(self, frame: Transcript) -> None:
        if self.turn_id is None:
            return
        if not frame.final:
            if self._speaking and is_speech(frame.text) and not is_echo_of(frame.text, self.avatar_text()):
                self.emit(UserTranscript(self.turn_id, " ".join([*self._finals, frame.text])))
                spoken = frame.end_sample - self._segment_start  # negative: a partial of an earlier stretch
                if self._held and spoken >= self._ms(self.config.barge_in_ms) and len(words_of(frame.text)) >= 4:
                    await self._barge_in()  # words over the avatar, for a while: no need to wait for the pause
            return
        self._awaiting = max(0, self._awaiting - 1)
        length = self._lengths.popleft() if self._lengths else 0
        if is_speech(frame.text):
            self._finals.append(frame.text.strip())
            self._overheard = self._overheard and self._overheard_stretch(frame.text, length, frame.logprob)
            self.emit(UserTranscript(self.turn_id, " ".join(self._finals)))
        await self._check_end()

    async def _check_end(self) -> None:
        """End the turn once its silence has lasted long enough. Audio after a voice onset is not silence,
        though the voice is not yet confirmed as speech (``min_speech_ms``): "Wait, what about..." must
        not end at "Wait" when the final decode of "Wait" comes back just after the user spoke on."""
        if self.turn_id is None or self._speaking or self._awaiting or self._onset_pending:
            return
        text = " ".join(self._finals).strip()
        overheard = self._held and not self._barged_in and self._overheard
        if overheard and self._now - self._end_sample < self._ms(self.config.turn_silence_ms):
            return  # decided once the silence is as long as a turn's: "So, tell me..." may go on after "So."
        if not text or overheard:
            await self._drop()
            return
        if self._now - self._end_sample >= self._ms(self._silence_ms(text)):
            await self._end_turn(text[:MAX_MESSAGE_CHARS])
        elif self.config.speculate and self._speculated is None and not self._held and not self.avatar_speaking():
            await self._speculate(text[:MAX_MESSAGE_CHARS])

    def _silence_ms(self, text: str) -> int:
        """How long the silence after ``text`` must last to end the turn."""
        if self._released:
            return 0
        if clearly_complete(text):
            return min(self.config.complete_silence_ms, self.config.turn_silence_ms)
        return self.config.turn_silence_ms if looks_complete(text) else self.config.incomplete_silence_ms

    async def _speculate(self, text: str) -> None:
        """Start the reply to ``text`` now, its speech kept until the turn is confirmed."""
        turn_id = self._turn()
        self._speculated = text
        log.debug("turn controller: speculative reply to turn %d", turn_id)
        self.emit(SpeculativeReply(turn_id))
        await self.push(HoldTurn(turn_id))
        await self.push(UserText(turn_id, text))

    async def _cancel_speculation(self) -> None:
        """Drop the speculative reply (the language model's stream closed, its synthesis abandoned, its
        kept speech dropped): an interrupt for the turns before this one, so this turn can still answer."""
        if self._speculated is None:
            return
        self._speculated = None
        log.debug("turn controller: speculative reply to turn %s cancelled", self.turn_id)
        self.emit(SpeculativeReply(self._turn(), cancelled=True))
        await self.push(Interrupt("speculation", self._turn() - 1))

    def _overheard_stretch(self, text: str, length: int, logprob: float) -> bool:
        """Speech over the avatar that is not for it: a back-channel, a short sound the decoder was unsure
        of (an "mm-hm" it could not spell, a laugh), or the avatar's own words coming back."""
        if is_echo_of(text, self.avatar_text()):
            return True  # its own "but" or "no" coming back is still an echo
        if any(word in STOPPING_WORDS for word in words_of(text)):
            return False
        unsure = length < self._ms(SHORT_SPEECH_MS) and logprob < UNSURE_LOGPROB
        return unsure or is_backchannel(text)

    async def _end_turn(self, text: str) -> None:
        turn_id, ended_s = self._turn(), self._ended_s
        if self._speculated is not None and self._speculated != text:
            await self._cancel_speculation()
        if self.admit is not None:
            try:
                await self.admit()  # rate limits: each turn is a paid language-model call
            except NeuraError as error:
                self.emit(ErrorRaised(turn_id, error))
                await self._drop()
                return
        speculated = self._speculated is not None
        if not speculated and not self._barged_in and (self._held or self.avatar_speaking()):
            await self._barge_in()
        self._reset()
        self.emit(VoiceTurn(turn_id, text, at_s=ended_s))
        if speculated:  # the reply is under way: let it be heard
            await self.push(PlayTurn(turn_id))
        else:
            await self.push(UserText(turn_id, text))

    async def _barge_in(self) -> None:
        """The ordinary interrupt, for everything before this turn."""
        self._held, self._barged_in = False, True
        await self.push(Interrupt("barge_in", self._turn() - 1))
        self.emit(VoiceBargeIn(self._turn()))

    async def _drop(self) -> None:
        """Not a turn (a noise, a back-channel, nothing recognised): the avatar plays on."""
        await self._cancel_speculation()
        turn_id, held = self._turn(), self._held
        self._reset()
        self.emit(UserSpeech(turn_id, speaking=False, ignored=True))
        if held:
            await self.push(ResumeSpeech())

    def _turn(self) -> int:
        assert self.turn_id is not None
        return self.turn_id

    @staticmethod
    def _ms(ms: int) -> int:
        return ms * SAMPLE_RATE_HZ // 1000
