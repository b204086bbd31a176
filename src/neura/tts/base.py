"""The TTS contract: what every engine is and yields.

An engine turns text into :class:`~neura.media.SpeechChunk` values, one per sentence, as soon as each is
ready. Its ``synthesize`` is blocking and CPU-heavy: call it from a worker thread.

Conventions every engine keeps (tests/tts/test_contract.py checks them for each):

* ``chunk.text`` is the sentence as written (for subtitles); ``chunk.words`` are the *spoken* words
  after :func:`~neura.tts.normalize.normalize_text` ("$5" -> "five", "dollars"), in order.
* ``chunk.phonemes`` are contiguous: the first starts at 0, each starts where the previous ends, the
  last ends at ``chunk.duration_s``. Pauses and the model's own leading/trailing silence are spans of
  :data:`SILENCE_PHONEME`. Stress marks are dropped; length marks stay on their vowel ("ɜː").
* Times are relative to the chunk start and already corrected by the engine's measured offset
  (``ALIGNMENT_OFFSET_S`` in the engine module).
* No silence is added beyond what the model makes; the pipeline adds pauses between chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from neura.media import SpeechChunk

SILENCE_PHONEME = "_"
"""Phoneme symbol of a pause or silence, in both alphabets (IPA and ARPAbet)."""


@dataclass(frozen=True)
class VoiceInfo:
    id: str  # e.g. "piper:en_US-joe-medium"
    engine: str  # "piper" | "espeak" | "xtts"
    language: str  # BCP-47, "en-US"
    name: str
    license: str  # licence of the voice/model
    engine_license: str  # licence of the engine's code
    description: str = ""


@runtime_checkable
class TTSEngine(Protocol):
    name: str
    voice: VoiceInfo
    sample_rate_hz: int

    def synthesize(self, text: str) -> Iterator[SpeechChunk]:
        """Normalise ``text``, split it into sentences and yield one chunk per sentence when ready.

        Raises :class:`~neura.errors.ScriptError` when ``text`` has nothing to say.
        """
        ...

    def speaking_rate_wps(self) -> float:
        """Measured words per second of this voice (cached on disk after the first measurement)."""
        ...
