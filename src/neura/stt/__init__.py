"""Speech to text: 16 kHz audio -> :class:`Transcript` (text, segments, word timings), batch or while
it is spoken; voice activity detection; resampling to 16 kHz.

* :func:`create_stt` loads an engine (provider ``whisper``; models from PyPI packages or
  ``STT_MODEL_DIR``), :func:`list_stt_models` lists what is installed.
* ``engine.transcribe(samples)`` for a whole recording, ``engine.stream()`` for an utterance in
  progress (:class:`StreamingTranscriber`: ``feed``, ``partial``, ``final``).
* :class:`VoiceActivityDetector` (streaming Silero VAD, speech start/end events) and
  :func:`speech_segments` (a whole recording).
* :class:`StreamResampler` (48 kHz WebRTC or 8 kHz telephone audio -> 16 kHz).
* :func:`read_recording` + :func:`transcribe_recording`: an uploaded file, with its refusals.

Everything here blocks and uses the CPU: call it from a worker thread, never on an event loop.
Names are imported on first use, so ``neura.stt.providers`` (what settings validation reads) stays
free of numpy and the engines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neura.stt.base import (
        SAMPLE_RATE_HZ,
        RecognizedWord,
        STTEngine,
        STTModelInfo,
        TranscribeOptions,
        Transcript,
        TranscriptSegment,
        UnsupportedLanguageError,
    )
    from neura.stt.providers import STT
    from neura.stt.recordings import NoSpeechError, Recording, read_recording, transcribe_recording
    from neura.stt.registry import clear_stt_cache, create_stt, list_stt_models, resolve_model
    from neura.stt.resample import StreamResampler
    from neura.stt.streaming import StreamingTranscriber
    from neura.stt.vad import (
        FRAME_SAMPLES,
        SpeechEnded,
        SpeechSegment,
        SpeechStarted,
        VadConfig,
        VadFrame,
        VoiceActivityDetector,
        speech_segments,
    )

_WHERE = {
    "SAMPLE_RATE_HZ": "base",
    "RecognizedWord": "base",
    "STTEngine": "base",
    "STTModelInfo": "base",
    "TranscribeOptions": "base",
    "Transcript": "base",
    "TranscriptSegment": "base",
    "UnsupportedLanguageError": "base",
    "NoSpeechError": "recordings",
    "Recording": "recordings",
    "read_recording": "recordings",
    "transcribe_recording": "recordings",
    "STT": "providers",
    "clear_stt_cache": "registry",
    "create_stt": "registry",
    "list_stt_models": "registry",
    "resolve_model": "registry",
    "StreamResampler": "resample",
    "StreamingTranscriber": "streaming",
    "FRAME_SAMPLES": "vad",
    "SpeechEnded": "vad",
    "SpeechSegment": "vad",
    "SpeechStarted": "vad",
    "VadConfig": "vad",
    "VadFrame": "vad",
    "VoiceActivityDetector": "vad",
    "speech_segments": "vad",
}

__all__ = [
    "FRAME_SAMPLES",
    "SAMPLE_RATE_HZ",
    "STT",
    "NoSpeechError",
    "RecognizedWord",
    "Recording",
    "STTEngine",
    "STTModelInfo",
    "SpeechEnded",
    "SpeechSegment",
    "SpeechStarted",
    "StreamResampler",
    "StreamingTranscriber",
    "TranscribeOptions",
    "Transcript",
    "TranscriptSegment",
    "UnsupportedLanguageError",
    "VadConfig",
    "VadFrame",
    "VoiceActivityDetector",
    "clear_stt_cache",
    "create_stt",
    "list_stt_models",
    "read_recording",
    "resolve_model",
    "speech_segments",
    "transcribe_recording",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'neura.stt' has no attribute {name!r}")
    return getattr(importlib.import_module(f"neura.stt.{module}"), name)
