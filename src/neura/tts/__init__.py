"""Text to speech: text -> :class:`~neura.media.SpeechChunk` per sentence, with phoneme and word timings.

Engines are the names of the provider table (:mod:`neura.tts.providers`): ``piper`` (default; natural
neural voices), ``espeak`` (robotic, instant), ``xtts`` (voice cloning; optional extra, local weights).
A voice is a :class:`VoiceRef` ("espeak:en-gb"); load it with :func:`create_tts`, list what is usable
with :func:`list_voices`. Text handling (:func:`normalize_text`, :func:`split_sentences`,
:func:`split_clauses`) and forced alignment (:func:`align_words`) are usable on their own.

Names are imported on first use, so ``neura.tts.providers`` (what settings validation reads) stays
free of numpy and the engines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neura.tts.align import AlignmentError, align_words
    from neura.tts.base import SILENCE_PHONEME, TTSEngine, TTSProvider, VoiceInfo
    from neura.tts.engine import BaseTTS, PieceAudio
    from neura.tts.normalize import normalize_text
    from neura.tts.providers import TTS
    from neura.tts.registry import clear_engine_cache, create_tts, find_voice, list_voices
    from neura.tts.sentences import speech_words, split_clauses, split_sentences
    from neura.tts.voices import UnknownVoiceError, VoiceRef

_WHERE = {
    "AlignmentError": "align",
    "align_words": "align",
    "SILENCE_PHONEME": "base",
    "TTSEngine": "base",
    "TTSProvider": "base",
    "VoiceInfo": "base",
    "BaseTTS": "engine",
    "PieceAudio": "engine",
    "normalize_text": "normalize",
    "TTS": "providers",
    "clear_engine_cache": "registry",
    "create_tts": "registry",
    "find_voice": "registry",
    "list_voices": "registry",
    "speech_words": "sentences",
    "split_clauses": "sentences",
    "split_sentences": "sentences",
    "UnknownVoiceError": "voices",
    "VoiceRef": "voices",
}

__all__ = [
    "SILENCE_PHONEME",
    "TTS",
    "AlignmentError",
    "BaseTTS",
    "PieceAudio",
    "TTSEngine",
    "TTSProvider",
    "UnknownVoiceError",
    "VoiceInfo",
    "VoiceRef",
    "align_words",
    "clear_engine_cache",
    "create_tts",
    "find_voice",
    "list_voices",
    "normalize_text",
    "speech_words",
    "split_clauses",
    "split_sentences",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'neura.tts' has no attribute {name!r}")
    return getattr(importlib.import_module(f"neura.tts.{module}"), name)
