"""``Speech`` -> ``TimedSpeech``: 48 kHz audio for WebRTC and the mouth pose of every 25 fps frame.

The first clause of a turn loses the voice's leading silence (all but a few milliseconds): that silence
is latency the user would wait through with a closed mouth. An engine's phoneme times carry its measured
offset (a median over word starts); where that offset puts the first phoneme's end before the first sound
("In", "It", "I"), the phonemes' head is stretched to begin at the sound (:func:`start_phonemes_at`), so
the first syllable still moves the mouth instead of being cut away with the silence.

A streamed utterance (a chunk that ``continues``: the voice's opening, decoded before the rest) is timed
by a :class:`StreamedSpeech`: its pieces leave here as whole video frames of one resampled stream, so the
timeline places them back to back and the voice and mouth run on across the cut as through the whole.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace

import av
import numpy as np
import numpy.typing as npt

from neura.lipsync import mouth_track
from neura.live.frames import Frame, Speech, TimedSpeech
from neura.live.processor import Processor
from neura.media import PhonemeSpan, SpeechChunk, WordSpan
from neura.tts.base import SILENCE_PHONEME

OUTPUT_RATE_HZ = 48_000
FPS = 25
SAMPLES_PER_FRAME = OUTPUT_RATE_HZ // FPS
SILENCE_LEVEL = 0.01  # |sample| below this (about -40 dBFS) counts as silence when trimming
KEEP_LEAD_S = 0.005  # silence kept before the first sound
MIN_SOUNDING_S = 0.02  # a first phoneme that sounds for less than this after the first sound is stretched


class Resampler48k:
    """Band-limited resampling to 48 kHz with FFmpeg's resampler, fed in pieces: the pieces' outputs
    joined equal the whole clip resampled at once (the filter's state carries across)."""

    ALIGN = 64  # samples fed per call are a multiple of this; the rest waits for the next piece

    def __init__(self, rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=OUTPUT_RATE_HZ)
        self._pending = np.zeros(0, np.float32)
        self._fed = 0  # input samples given (pending included)
        self._made = 0  # output samples returned

    def push(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """What ``samples`` (after those pushed before) resample to so far."""
        if self.rate_hz == OUTPUT_RATE_HZ:
            self._fed += samples.size
            return self._out(samples.astype(np.float32, copy=False))
        joined = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        self._fed += samples.size
        aligned = joined.size // self.ALIGN * self.ALIGN
        self._pending = joined[aligned:]
        return self._out(self._feed(joined[:aligned]))

    def finish(self) -> npt.NDArray[np.float32]:
        """The rest: the output then holds exactly ``round(input * 48000 / rate)`` samples in all."""
        tail = np.zeros(0, np.float32)
        if self.rate_hz != OUTPUT_RATE_HZ:
            padded = np.zeros(-(-self._pending.size // self.ALIGN) * self.ALIGN, np.float32)
            padded[: self._pending.size] = self._pending
            self._pending = np.zeros(0, np.float32)
            fed = self._feed(padded)
            flushed = [f.to_ndarray()[0] for f in self._resampler.resample(None)]
            tail = np.concatenate([fed, *flushed]).astype(np.float32)
        count = round(self._fed * OUTPUT_RATE_HZ / self.rate_hz) - self._made
        out = np.zeros(max(0, count), np.float32)
        out[: min(count, tail.size)] = tail[:count]
        return self._out(out)

    def _feed(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if samples.size == 0:
            return np.zeros(0, np.float32)
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
        frame.sample_rate = self.rate_hz
        out = [f.to_ndarray()[0] for f in self._resampler.resample(frame)]
        return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)

    def _out(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        self._made += samples.size
        return samples


def resample_to_48k(samples: npt.NDArray[np.float32], rate_hz: int) -> npt.NDArray[np.float32]:
    """The whole clip resampled to 48 kHz (flushed: no delay, no loss)."""
    if rate_hz == OUTPUT_RATE_HZ or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    resampler = Resampler48k(rate_hz)
    return np.concatenate([resampler.push(samples), resampler.finish()])


def first_sound_s(samples: npt.NDArray[np.float32], rate_hz: int) -> float | None:
    """When the first sample above :data:`SILENCE_LEVEL` sounds (None: the clip is silent)."""
    loud = np.flatnonzero(np.abs(samples) > SILENCE_LEVEL)
    return None if loud.size == 0 else float(loud[0] / rate_hz)


def leading_silence_s(samples: npt.NDArray[np.float32], rate_hz: int) -> float:
    """Seconds of silence before the first sound, less :data:`KEEP_LEAD_S`."""
    sound_s = first_sound_s(samples, rate_hz)
    return 0.0 if sound_s is None else max(0.0, sound_s - KEEP_LEAD_S)


def start_phonemes_at(chunk: SpeechChunk, sound_s: float) -> SpeechChunk:
    """``chunk`` with its phonemes' head stretched so that the first sounding phoneme begins at ``sound_s``,
    where the alignment has it end less than :data:`MIN_SOUNDING_S` after that (else unchanged).

    Times map piecewise linearly: ``0 -> 0``, the first phoneme's start -> ``sound_s``, and from the end of
    the phoneme after it on (at least two :data:`MIN_SOUNDING_S` past the sound) nothing moves: only the
    first two phonemes share the correction. The spans stay contiguous and in order.
    """
    index = next((i for i, p in enumerate(chunk.phonemes) if p.phoneme != SILENCE_PHONEME), None)
    if index is None or chunk.phonemes[index].end_s >= sound_s + MIN_SOUNDING_S:
        return chunk
    following = chunk.phonemes[index + 1 : index + 2]
    start_s = chunk.phonemes[index].start_s
    anchor_s = max(following[0].end_s if following else 0.0, sound_s + 2 * MIN_SOUNDING_S)
    times = np.array([0.0, start_s, anchor_s]), np.array([0.0, sound_s, anchor_s])

    def warp(t: float) -> float:
        return t if t >= anchor_s else float(np.interp(t, *times))

    phonemes = [PhonemeSpan(p.phoneme, warp(p.start_s), warp(p.end_s)) for p in chunk.phonemes]
    words = [WordSpan(w.word, warp(w.start_s), warp(w.end_s)) for w in chunk.words]
    return replace(chunk, phonemes=phonemes, words=words)


def trim_start(chunk: SpeechChunk, trim_s: float) -> SpeechChunk:
    """``chunk`` without its first ``trim_s`` seconds; phonemes and words moved to match."""
    if trim_s <= 0:
        return chunk
    cut = round(trim_s * chunk.sample_rate_hz)
    trim_s = cut / chunk.sample_rate_hz
    phonemes = [
        PhonemeSpan(p.phoneme, max(0.0, p.start_s - trim_s), p.end_s - trim_s)
        for p in chunk.phonemes
        if p.end_s > trim_s
    ]
    words = [WordSpan(w.word, max(0.0, w.start_s - trim_s), max(0.0, w.end_s - trim_s)) for w in chunk.words]
    return replace(chunk, samples=chunk.samples[cut:], phonemes=phonemes, words=words)


def time_speech(turn_id: int, index: int, chunk: SpeechChunk, *, trim_lead: bool) -> TimedSpeech:
    """``chunk`` at 48 kHz with the mouth pose of each of its frames."""
    chunk = trimmed(chunk) if trim_lead else chunk
    samples = resample_to_48k(chunk.samples, chunk.sample_rate_hz)
    n_frames = max(1, math.ceil(len(samples) / OUTPUT_RATE_HZ * FPS))
    track = mouth_track(chunk.phonemes, chunk.alphabet, fps=FPS, start_s=0.0, n_frames=n_frames)
    return TimedSpeech(turn_id, chunk.text, index, samples, track.values, list(chunk.words))


def trimmed(chunk: SpeechChunk) -> SpeechChunk:
    """``chunk`` without its leading silence (all but :data:`KEEP_LEAD_S`), its first phoneme at the sound."""
    sound_s = first_sound_s(chunk.samples, chunk.sample_rate_hz)
    if sound_s is None:
        return chunk
    return trim_start(start_phonemes_at(chunk, sound_s), max(0.0, sound_s - KEEP_LEAD_S))


class StreamedSpeech:
    """An utterance whose audio comes in pieces (a chunk that ``continues``, then its rest), timed as
    if it had come whole: one resampler across the pieces, whole video frames per piece (the samples
    past the last whole frame wait for the next piece), and the mouth of every frame from the whole
    utterance's phonemes (they all come with the first piece)."""

    def __init__(self, turn_id: int, index: int) -> None:
        self.turn_id, self.index = turn_id, index
        self._opening: SpeechChunk | None = None  # the first piece: the whole utterance's text and timings
        self._resampler: Resampler48k | None = None
        self._carry = np.zeros(0, np.float32)
        self._frames = 0  # frames given out so far

    def add(self, chunk: SpeechChunk, *, trim_lead: bool = False) -> TimedSpeech | None:
        """The next piece's whole frames (all that is left when it is the last: it does not continue);
        None when none is whole yet. The first piece may lose its leading silence (``trim_lead``); only
        its :class:`TimedSpeech` has the text (the rest go on the same clause)."""
        if self._opening is None:
            chunk = trimmed(chunk) if trim_lead else chunk
            self._opening, self._resampler = chunk, Resampler48k(chunk.sample_rate_hz)
        opening, resampler = self._opening, self._resampler
        assert resampler is not None
        out = np.concatenate([self._carry, resampler.push(chunk.samples)])
        if not chunk.continues:
            out, self._carry = np.concatenate([out, resampler.finish()]), np.zeros(0, np.float32)
            n_frames = math.ceil(out.size / SAMPLES_PER_FRAME)
        else:
            n_frames = out.size // SAMPLES_PER_FRAME
            out, self._carry = out[: n_frames * SAMPLES_PER_FRAME], out[n_frames * SAMPLES_PER_FRAME :]
        if n_frames == 0 or out.size == 0:
            return None
        start_s = self._frames / FPS
        track = mouth_track(opening.phonemes, opening.alphabet, fps=FPS, start_s=start_s, n_frames=n_frames)
        words = [WordSpan(w.word, w.start_s - start_s, w.end_s - start_s) for w in opening.words]
        text = opening.text if self._frames == 0 else ""
        self._frames += n_frames
        return TimedSpeech(self.turn_id, text, self.index, out, track.values, words)


class LipSyncStage(Processor):
    def __init__(self, executor: Executor) -> None:
        super().__init__()
        self.executor = executor
        self._last_turn = -1
        self._streamed: StreamedSpeech | None = None  # an utterance whose rest is still to come

    async def process(self, frame: Frame) -> None:
        if not isinstance(frame, Speech):
            await self.push(frame)
            return
        first = frame.turn_id != self._last_turn
        self._last_turn = frame.turn_id
        # which utterance a piece belongs to is settled here, on the event loop; a piece whose work an
        # interrupt abandoned may still be finishing on a thread, with its own StreamedSpeech
        chunk, streamed = frame.chunk, self._streamed
        if streamed is None or (streamed.turn_id, streamed.index) != (frame.turn_id, frame.index):
            streamed = StreamedSpeech(frame.turn_id, frame.index) if chunk.continues else None
        self._streamed = streamed if chunk.continues else None
        loop = asyncio.get_running_loop()
        work: Callable[[], TimedSpeech | None]
        if streamed is None:
            work = functools.partial(time_speech, frame.turn_id, frame.index, chunk, trim_lead=first)
        else:
            work = functools.partial(streamed.add, chunk, trim_lead=first)
        timed = await loop.run_in_executor(self.executor, work)
        if timed is not None:
            await self.push(timed)
