"""Transcribing an utterance while it is spoken.

A :class:`StreamingTranscriber` holds one utterance's 16 kHz audio as it grows. The caller (the live
turn controller) feeds it audio, asks for a **partial** transcript now and then (a greedy decode of the
audio so far, without word timings: :meth:`partial_due` says when enough new audio came), and for the
**final** transcript, with word timings, once voice activity detection says the speaker stopped. The
final is exactly what :meth:`STTEngine.transcribe` gives for the same audio.

What makes the final fast: Whisper here encodes only the utterance's own length
(:mod:`neura.stt.whisper`), so a 2-4 s utterance decodes in a fraction of a second; and the final is
kept, so a turn controller may compute it speculatively as soon as the silence begins and use it
when the end-of-speech silence is confirmed (:meth:`final` returns the kept result when no audio came
since). ``bench/stt.py`` measures both the final latency and the CPU cost of partials.

Not thread-safe: one utterance, one caller at a time (run its blocking methods in an executor; the
engine under it may be shared).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from neura.stt.base import SAMPLE_RATE_HZ, Samples, TranscribeOptions, Transcript

if TYPE_CHECKING:
    from neura.stt.base import STTEngine

DEFAULT_PARTIAL_INTERVAL_MS = 1000
"""New audio needed before another partial is worth decoding."""


class StreamingTranscriber:
    def __init__(
        self,
        engine: STTEngine,
        options: TranscribeOptions,
        *,
        partial_interval_ms: int = DEFAULT_PARTIAL_INTERVAL_MS,
    ) -> None:
        self.engine = engine
        self.options = options
        self.partial_interval_ms = partial_interval_ms
        self._pieces: list[Samples] = []
        self._samples = 0
        self._partial_at = 0  # samples decoded by the last partial
        self._final: tuple[int, Transcript] | None = None
        self.last_partial: Transcript | None = None

    @property
    def duration_s(self) -> float:
        return self._samples / SAMPLE_RATE_HZ

    def feed(self, samples: Samples) -> None:
        """Append 16 kHz mono float32 audio (cheap: nothing is decoded)."""
        piece = np.asarray(samples, dtype=np.float32).reshape(-1)
        if piece.size:
            self._pieces.append(piece.copy())
            self._samples += piece.size

    def audio(self) -> Samples:
        """The utterance so far."""
        if len(self._pieces) > 1:
            self._pieces = [np.concatenate(self._pieces)]
        return self._pieces[0] if self._pieces else np.zeros(0, np.float32)

    def partial_due(self) -> bool:
        """Whether at least ``partial_interval_ms`` of audio came since the last partial."""
        return (self._samples - self._partial_at) * 1000 >= self.partial_interval_ms * SAMPLE_RATE_HZ

    def partial(self) -> Transcript:
        """A quick transcript of the audio so far: one greedy pass, no word timings, no retries, and
        the cheap spectral noise suppressor instead of the network (about 2 % of its CPU). Blocking (tens
        to a few hundred ms)."""
        self._partial_at = self._samples
        quick = dataclasses.replace(
            self.options, word_timestamps=False, fallback=False, beam_size=1, denoiser="spectral"
        )
        self.last_partial = self.engine.transcribe(self.audio(), quick)
        return self.last_partial

    def final(self) -> Transcript:
        """The transcript of the whole utterance with word timings, as ``engine.transcribe`` gives it.
        Kept: a second call with no new audio returns the same object at once."""
        if self._final is not None and self._final[0] == self._samples:
            return self._final[1]
        transcript = self.engine.transcribe(self.audio(), self.options)
        self._final = (self._samples, transcript)
        return transcript

    def reset(self) -> None:
        """Forget the utterance (the next one starts empty)."""
        self._pieces, self._samples, self._partial_at = [], 0, 0
        self._final = None
        self.last_partial = None
