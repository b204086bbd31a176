"""``Speech`` -> ``TimedSpeech``: 48 kHz audio for WebRTC and the mouth pose of every 25 fps frame.

The first clause of a turn loses the voice's leading silence (all but a few milliseconds): that silence
is latency the user would wait through with a closed mouth.
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

OUTPUT_RATE_HZ = 48_000
FPS = 25
SILENCE_LEVEL = 0.01  # |sample| below this (about -40 dBFS) counts as silence when trimming
KEEP_LEAD_S = 0.005  # silence kept before the first sound


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


def leading_silence_s(samples: npt.NDArray[np.float32], rate_hz: int) -> float:
    """Seconds of silence before the first sound, less :data:`KEEP_LEAD_S`."""
    loud = np.flatnonzero(np.abs(samples) > SILENCE_LEVEL)
    if loud.size == 0:
        return 0.0
    return max(0.0, loud[0] / rate_hz - KEEP_LEAD_S)


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
    if trim_lead:
        chunk = trim_start(chunk, leading_silence_s(chunk.samples, chunk.sample_rate_hz))
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
