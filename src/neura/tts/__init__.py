"""Text to speech: text -> :class:`~neura.media.SpeechChunk` per sentence, with phoneme and word timings.

Engines: ``piper`` (default; natural neural voice), ``espeak`` (robotic, instant), ``xtts`` (voice cloning;
optional extra, local weights). Pick one with :func:`create_tts`; list what is usable with
:func:`list_voices`. Text handling (:func:`normalize_text`, :func:`split_sentences`,
:func:`split_clauses`) and forced alignment (:func:`align_words`) are usable on their own.
"""

from neura.tts.align import AlignmentError, align_words
from neura.tts.base import SILENCE_PHONEME, TTSEngine, VoiceInfo
from neura.tts.normalize import normalize_text
from neura.tts.registry import clear_engine_cache, create_tts, list_voices
from neura.tts.sentences import speech_words, split_clauses, split_sentences

__all__ = [
    "SILENCE_PHONEME",
    "AlignmentError",
    "TTSEngine",
    "VoiceInfo",
    "align_words",
    "clear_engine_cache",
    "create_tts",
    "list_voices",
    "normalize_text",
    "speech_words",
    "split_clauses",
    "split_sentences",
]
