"""The live pipeline's ears: the user's microphone -> speech start/stop -> transcripts.

    UserAudio* -> [VoiceActivityStage] -> UserStartedSpeaking / UserStoppedSpeaking (+ the audio)
               -> [TranscriptionStage] -> Transcript(final=False)* while speaking, Transcript(final=True)
               -> [TurnController] (:mod:`neura.live.turn_taking`)

Input frames are system frames: they are handled inline by the task that reads the microphone, so
a speech onset is seen within one 20 ms packet whatever the language model or the TTS are doing.
Voice activity detection (Silero, ~0.3 ms per 32 ms frame) runs inline too; every transcription runs in
the speech recognition executor (one worker of its own, so it never queues behind speech synthesis,
and decodes of one stream run one at a time, in order). Transcription starts while the user speaks
(partials) and the final decode of a stretch of speech starts at the first hint of a pause
(``LIVE_STT_EARLY_FINAL_MS`` of silence: :class:`~neura.live.frames.UserPausing`), on the audio up to
there; when the pause lasts (``LIVE_VAD_PAUSE_MS``) with no voice since, that decode is the final
transcript, else the stretch goes on and its final is decoded again at its real end. The turn
controller meanwhile waits to see whether the turn is over.

The echo guard: the avatar must not hear itself. Browsers cancel the echo of what they play
(``echoCancellation``); what is left, or a client without it, is recognised by its loudness over time
following the avatar's own output a few hundred milliseconds later: speech whose level envelope
correlates with the avatar's recent output at some delay, at a steady level ratio, is ignored. Echo
that slips past it is caught by its words (:func:`neura.live.turn_taking.is_echo_of`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

import numpy as np
import numpy.typing as npt

from neura.live.frames import (
    Frame,
    TalkButton,
    Transcript,
    UserAudio,
    UserOnsetDropped,
    UserPausing,
    UserSpeechOnset,
    UserStartedSpeaking,
    UserStoppedSpeaking,
    VoiceMode,
)
from neura.live.processor import Processor
from neura.stt.base import SAMPLE_RATE_HZ, STTEngine, TranscribeOptions
from neura.stt.base import Transcript as SpokenText
from neura.stt.streaming import StreamingTranscriber
from neura.stt.vad import (
    SpeechEnded,
    SpeechOnset,
    SpeechPausing,
    SpeechStarted,
    VadConfig,
    VoiceActivityDetector,
)

log = logging.getLogger(__name__)

PRE_ROLL_S = 0.25  # audio kept before a confirmed onset (its first syllable)
KEPT_AUDIO_S = 1.0  # the recent audio the transcription stage keeps for that
PAUSING_GRACE_S = 0.4  # a pause hint with no stop this long after it: the voice went on
QUIET_RATIO = 0.1  # a piece of speech below this share of its loudest piece's RMS (-20 dB): maybe a pause
LevelLog = Callable[[], Sequence[tuple[float, float]]]  # (monotonic time, RMS) of the avatar's packets


class EchoGuard:
    """Is this speech the avatar's own voice coming back? (See the module docstring.)"""

    SILENT_RMS = 0.003
    MIN_POINTS = 8
    MAX_RATIO_SPREAD_DB = 6.0
    BEFORE_S = 1.0  # the input before the speech, searched for the echo path's earlier evidence

    def __init__(self, output_levels: LevelLog, *, threshold: float = 0.9, max_lag_s: float = 1.0) -> None:
        self.output_levels = output_levels
        self.threshold = threshold
        self.max_lag_s = max_lag_s
        self._input: deque[tuple[float, float]] = deque(maxlen=250)  # 5 s of 20 ms packets

    def observe(self, at_s: float, level: float) -> None:
        self._input.append((at_s, level))

    def correlation(self, start_s: float, end_s: float) -> float:
        """How well the input's level follows the output's, at the best delay (0..max_lag_s): the
        correlation of their envelopes, counted only when the level ratio also stays steady (an echo is
        the output times one gain: within about 6 dB; two independent voices drift apart). Over the
        speech's voiced packets only: leading silence would line up with any pause in the output.

        An echo path is there whenever the avatar is audible, not only when speech starts: a delay at
        which the avatar, at the gain the speech suggests, should have been clearly heard during the
        second before, while the microphone stayed silent, is no echo path (two voices' envelopes over
        a quarter of a second can match at one of fifty delays by chance: 0.91 was seen, a user's
        "Wait," taken for the avatar's echo while the microphone had been silent)."""
        points = [(t, level) for t, level in self._input if start_s <= t <= end_s]
        before = [(t, level) for t, level in self._input if start_s - self.BEFORE_S <= t < start_s]
        output = list(self.output_levels())
        if len(points) < self.MIN_POINTS or not output:
            return 0.0
        times = np.array([t for t, _ in points])
        levels = np.array([level for _, level in points])
        out_t = np.array([t for t, _ in output])
        out_l = np.array([level for _, level in output])
        heard = (out_t >= start_s - self.max_lag_s) & (out_t <= end_s)
        if not heard.any() or float(out_l[heard].max()) < self.SILENT_RMS or float(levels.std()) < 1e-6:
            return 0.0
        voiced = levels > self.SILENT_RMS  # the speech itself: leading silence would match any onset
        if voiced.sum() < self.MIN_POINTS:
            return 0.0
        best = 0.0
        for lag in np.arange(0.0, self.max_lag_s + 1e-9, 0.02):
            echo = np.interp(times - lag, out_t, out_l, left=0.0, right=0.0)[voiced]
            heard_level = levels[voiced]
            # an echo is heard only while the avatar was audible, at one gain: a steady level ratio
            if (echo > self.SILENT_RMS).mean() < 0.9 or float(echo.std()) < 1e-6:
                continue
            ratio_db = 20 * np.log10(heard_level / np.maximum(echo, 1e-6))
            if float(ratio_db.std()) > self.MAX_RATIO_SPREAD_DB:
                continue
            if self._silent_path(before, lag, 10 ** (float(np.median(ratio_db)) / 20), out_t, out_l):
                continue
            best = max(best, float(np.corrcoef(heard_level, echo)[0, 1]))
        return best

    def _silent_path(
        self,
        before: list[tuple[float, float]],
        lag: float,
        gain: float,
        out_t: npt.NDArray[np.float64],
        out_l: npt.NDArray[np.float64],
    ) -> bool:
        """Whether the microphone stayed silent before the speech where an echo at ``lag`` and ``gain``
        would have been clearly heard (at least :data:`MIN_POINTS` such packets, most of them silent)."""
        if len(before) < self.MIN_POINTS:
            return False
        times = np.array([t for t, _ in before])
        levels = np.array([level for _, level in before])
        expected = gain * np.interp(times - lag, out_t, out_l, left=0.0, right=0.0)
        audible = expected > 2 * self.SILENT_RMS
        if audible.sum() < self.MIN_POINTS:
            return False
        return bool((levels[audible] <= self.SILENT_RMS).mean() > 0.5)

    def is_echo(self, start_s: float, end_s: float) -> bool:
        return self.correlation(start_s, end_s) >= self.threshold


class VoiceActivityStage(Processor):
    """Speech start and stop, by voice activity detection (hands-free) or by the talk button."""

    def __init__(self, config: VadConfig, echo: EchoGuard | None = None) -> None:
        super().__init__()
        self.detector = VoiceActivityDetector(config)
        self.echo = echo
        self.mode = "hands_free"
        self._pressed = False
        self._samples = 0  # 16 kHz samples received
        self._last: UserAudio | None = None
        self._echo_speech = False  # the speech in progress is the avatar's echo: ignored until it ends
        self._onset = False  # a UserSpeechOnset went out and was neither confirmed nor dropped yet
        self._loudest = 0.0  # the loudest piece of the speech in progress (RMS)

    def time_of(self, sample: int) -> float:
        """When ``sample`` arrived (monotonic), from the latest packet's arrival."""
        last = self._last
        if last is None:
            return 0.0
        return last.at_s + (sample - (last.first_sample + last.samples.size)) / SAMPLE_RATE_HZ

    async def process(self, frame: Frame) -> None:
        if isinstance(frame, UserAudio):
            await self._hear(frame)
        elif isinstance(frame, VoiceMode):
            if self.mode == "push_to_talk" and self._pressed:
                await self._release(frame)
            self.mode = frame.mode
            self.detector.reset()
            await self.push(frame)
        elif isinstance(frame, TalkButton):
            if self.mode != "push_to_talk" or frame.pressed == self._pressed:
                return
            if frame.pressed:
                self._pressed = True
                await self.push(UserStartedSpeaking(self._samples, frame.at_s))
            else:
                await self._release(frame)
        else:
            await self.push(frame)

    async def _release(self, frame: Frame) -> None:
        self._pressed = False
        await self.push(UserStoppedSpeaking(self._samples, self.time_of(self._samples), released=True))

    def _is_echo(self, start_s: float, end_s: float) -> bool:
        assert self.echo is not None
        correlation = self.echo.correlation(start_s, end_s)
        log.debug("live: speech onset, correlation with the avatar's voice %.2f", correlation)
        return correlation >= self.echo.threshold

    async def _hear(self, audio: UserAudio) -> None:
        self._last = audio
        self._samples = audio.first_sample + audio.samples.size
        if self.echo is not None:
            self.echo.observe(audio.at_s, audio.level)
        if self.mode == "hands_free":
            for vad in self.detector.push(audio.samples):
                event = vad.event
                if isinstance(event, SpeechOnset) and not event.dropped:
                    self._onset = True
                    await self.push(UserSpeechOnset(audio.at_s))
                elif isinstance(event, SpeechOnset) and self._onset:
                    self._onset = False
                    await self.push(UserOnsetDropped(audio.at_s))
                elif isinstance(event, SpeechStarted):
                    start = round(event.start_s * SAMPLE_RATE_HZ)
                    started_s = self.time_of(start)
                    onset, self._onset = self._onset, False
                    if self.echo is not None and self._is_echo(started_s - 0.1, audio.at_s):
                        log.info("live: ignoring speech that follows the avatar's own voice (echo)")
                        self._echo_speech = True
                        if onset:
                            await self.push(UserOnsetDropped(audio.at_s))
                        continue
                    await self.push(UserStartedSpeaking(start, started_s))
                elif isinstance(event, SpeechPausing) and not self._echo_speech:
                    await self.push(UserPausing(round(event.end_s * SAMPLE_RATE_HZ)))
                elif isinstance(event, SpeechEnded):
                    if self._echo_speech:
                        self._echo_speech = False
                        continue
                    end = round(event.end_s * SAMPLE_RATE_HZ)
                    await self.push(UserStoppedSpeaking(end, self.time_of(end)))
            if self.detector.speaking:
                self._loudest = max(self._loudest, audio.level)
                if self.detector.silence_ms > 0 or audio.level < QUIET_RATIO * self._loudest:
                    audio = dataclasses.replace(audio, quiet=True)
            else:
                self._loudest = 0.0
        elif not self._pressed:  # push-to-talk, button up: the microphone is not heard
            audio = UserAudio(np.zeros_like(audio.samples), audio.first_sample, audio.at_s, 0.0)
        await self.push(audio)


class TranscriptionStage(Processor):
    """Transcribes each stretch of speech while it is spoken (partials) and at its first pause (final)."""

    def __init__(
        self,
        engine: STTEngine,
        executor: Executor,
        *,
        beam_size: int = 5,
        partial_interval_ms: int = 800,
        language: str | None = "en",
    ) -> None:
        super().__init__()
        self.engine = engine
        self.executor = executor
        self.options = TranscribeOptions(
            language=language if language in engine.model.languages else None,
            beam_size=beam_size,
            word_timestamps=False,
            fallback=False,
        )
        self.partial_samples = partial_interval_ms * SAMPLE_RATE_HZ // 1000
        self._recent: deque[UserAudio] = deque()
        self._stream: StreamingTranscriber | None = None
        self._unfed: list[npt.NDArray[np.float32]] = []  # audio of the stretch not yet handed to a job
        self._since_partial = 0
        self._fed_to = 0  # the sample after the audio handed to the stream
        self._job: asyncio.Future[None] | None = None  # the latest decode: jobs of a stream run in order
        self._pausing: tuple[int, int] | None = None  # (speech end, audio fed) of the early final decode
        self._jobs: set[asyncio.Future[None]] = set()

    async def process(self, frame: Frame) -> None:
        if isinstance(frame, UserAudio):
            self._keep(frame)
            if self._stream is not None:
                self._take(frame.samples, frame.first_sample)
                if self._pausing is not None and self._fed_to - self._pausing[1] > PAUSING_GRACE_S * SAMPLE_RATE_HZ:
                    self._pausing = None  # no stop came: the voice went on
                idle = self._job is None or self._job.done()
                # No partial while the voice is fading or gone: the pause may be the end, and its final
                # would wait behind that decode (a partial takes 150-250 ms; the early final starts at
                # 100 ms of silence, and the detector hears the voice for 50-100 ms after it stopped).
                due = self._since_partial >= self.partial_samples and not frame.quiet
                if due and idle and self._pausing is None:
                    self._since_partial = 0
                    self._decode(self._stream, final=False, end_sample=self._fed_to)
        elif isinstance(frame, UserPausing) and self._stream is not None:
            self._pausing = (frame.end_sample, self._fed_to)
            self._decode(self._stream, final=False, end_sample=frame.end_sample, early_final=True)
        elif isinstance(frame, UserStartedSpeaking):
            self._stream = self.engine.stream(self.options)
            self._unfed, self._since_partial = [], 0
            self._fed_to = frame.start_sample - round(PRE_ROLL_S * SAMPLE_RATE_HZ)
            for audio in self._recent:
                self._take(audio.samples, audio.first_sample)
        elif isinstance(frame, UserStoppedSpeaking) and self._stream is not None:
            if self._pausing is not None and self._pausing[0] == frame.end_sample:
                self._unfed = []  # only silence since the early final: it stands (the stream keeps it)
            self._pausing = None
            self._decode(self._stream, final=True, end_sample=frame.end_sample)
            self._stream = None
        await self.push(frame)

    async def stop(self) -> None:
        for job in list(self._jobs):
            job.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)
        await super().stop()

    def _keep(self, audio: UserAudio) -> None:
        self._recent.append(audio)
        while self._recent and self._recent[0].first_sample < audio.first_sample - KEPT_AUDIO_S * SAMPLE_RATE_HZ:
            self._recent.popleft()

    def _take(self, samples: npt.NDArray[np.float32], first_sample: int) -> None:
        """The part of ``samples`` after what the stream already has."""
        skip = max(0, self._fed_to - first_sample)
        if skip < samples.size:
            self._unfed.append(samples[skip:])
            self._since_partial += samples.size - skip
            self._fed_to = first_sample + samples.size

    def _decode(self, stream: StreamingTranscriber, *, final: bool, end_sample: int, early_final: bool = False) -> None:
        """``early_final``: decode the final transcript of the audio so far (kept by the stream, reused
        when nothing but silence comes before the stop) and pass it on as a partial meanwhile."""
        pieces, self._unfed = self._unfed, []
        before = self._job
        job = asyncio.ensure_future(self._decode_after(stream, pieces, before, final, end_sample, early_final))
        self._job = job
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def _decode_after(
        self,
        stream: StreamingTranscriber,
        pieces: list[npt.NDArray[np.float32]],
        before: asyncio.Future[None] | None,
        final: bool,
        end_sample: int,
        early_final: bool,
    ) -> None:
        if before is not None:
            await asyncio.gather(before, return_exceptions=True)
        loop = asyncio.get_running_loop()
        try:
            heard, logprob = await loop.run_in_executor(
                self.executor, _transcribe, stream, pieces, final or early_final
            )
        except Exception:  # a decode that fails loses this stretch of speech, not the session
            log.exception("live: speech recognition failed")
            heard, logprob = "", 0.0
        await self.push(Transcript(heard, final, end_sample, logprob))


def _transcribe(stream: StreamingTranscriber, pieces: list[npt.NDArray[np.float32]], final: bool) -> tuple[str, float]:
    """In the executor (the only place a stream is touched): feed, decode, keep what is speech."""
    for piece in pieces:
        stream.feed(piece)
    if stream.duration_s == 0:
        return "", 0.0
    return spoken_text(stream.final() if final else stream.partial())


def spoken_text(transcript: SpokenText) -> tuple[str, float]:
    """The text, without segments Whisper decoded from no speech (OpenAI's rule: likely silence and
    improbable text: what it invents from a cough or a breath), and the lowest average log-probability
    of the segments kept (how sure the decoder was)."""
    kept = [s for s in transcript.segments if not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)]
    if not transcript.segments:
        return transcript.text.strip(), 0.0
    text = " ".join(s.text.strip() for s in kept if s.text.strip())
    return text, min((s.avg_logprob for s in kept), default=0.0)
