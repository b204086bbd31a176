"""``Speech`` -> ``TimedSpeech``: 48 kHz audio for WebRTC and the mouth pose of every 25 fps frame.

The first clause of a turn loses the voice's leading silence (all but a few milliseconds): that silence
is latency the user would wait through with a closed mouth. An engine's phoneme times carry its measured
offset (a median over word starts); where that offset puts the first phoneme's end before the first sound
("In", "It", "I"), the phonemes' head is stretched to begin at the sound (:func:`start_phonemes_at`), so
the first syllable still moves the mouth instead of being cut away with the silence.
"""

from __future__ import annotations

import asyncio
import math
from concurrent.futures import Executor

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
SILENCE_LEVEL = 0.01  # |sample| below this (about -40 dBFS) counts as silence when trimming
KEEP_LEAD_S = 0.005  # silence kept before the first sound
MIN_SOUNDING_S = 0.02  # a first phoneme that sounds for less than this after the first sound is stretched


def resample_to_48k(samples: npt.NDArray[np.float32], rate_hz: int) -> npt.NDArray[np.float32]:
    """Band-limited resampling with FFmpeg's resampler (the whole clip, flushed: no delay, no loss)."""
    if rate_hz == OUTPUT_RATE_HZ or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    count = round(samples.size * OUTPUT_RATE_HZ / rate_hz)
    padded = np.zeros(-(-samples.size // 64) * 64, dtype=np.float32)  # PyAV wants an aligned frame size
    padded[: samples.size] = samples
    resampler = av.AudioResampler(format="flt", layout="mono", rate=OUTPUT_RATE_HZ)
    frame = av.AudioFrame.from_ndarray(padded[None, :], format="flt", layout="mono")
    frame.sample_rate = rate_hz
    out = [f.to_ndarray()[0] for f in resampler.resample(frame)]
    out += [f.to_ndarray()[0] for f in resampler.resample(None)]
    resampled = np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)
    return resampled[:count]


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
    return SpeechChunk(chunk.text, chunk.samples, chunk.sample_rate_hz, phonemes, words, chunk.alphabet)


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
    return SpeechChunk(chunk.text, chunk.samples[cut:], chunk.sample_rate_hz, phonemes, words, chunk.alphabet)


def time_speech(turn_id: int, index: int, chunk: SpeechChunk, *, trim_lead: bool) -> TimedSpeech:
    """``chunk`` at 48 kHz with the mouth pose of each of its frames."""
    sound_s = first_sound_s(chunk.samples, chunk.sample_rate_hz) if trim_lead else None
    if sound_s is not None:
        chunk = trim_start(start_phonemes_at(chunk, sound_s), max(0.0, sound_s - KEEP_LEAD_S))
    samples = resample_to_48k(chunk.samples, chunk.sample_rate_hz)
    n_frames = max(1, math.ceil(len(samples) / OUTPUT_RATE_HZ * FPS))
    track = mouth_track(chunk.phonemes, chunk.alphabet, fps=FPS, start_s=0.0, n_frames=n_frames)
    return TimedSpeech(turn_id, chunk.text, index, samples, track.values, list(chunk.words))


class LipSyncStage(Processor):
    def __init__(self, executor: Executor) -> None:
        super().__init__()
        self.executor = executor
        self._last_turn = -1

    async def process(self, frame: Frame) -> None:
        if not isinstance(frame, Speech):
            await self.push(frame)
            return
        first = frame.turn_id != self._last_turn
        self._last_turn = frame.turn_id
        loop = asyncio.get_running_loop()
        timed = await loop.run_in_executor(
            self.executor, lambda: time_speech(frame.turn_id, frame.index, frame.chunk, trim_lead=first)
        )
        await self.push(timed)
