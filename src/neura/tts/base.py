"""The TTS contract: what every engine is and yields, and what an engine family tells the registry.

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

Engines subclass :class:`~neura.tts.engine.BaseTTS`, which keeps these conventions for them: an engine
writes only how it synthesises one piece of text. Each engine module also has a :class:`TTSProvider`:
its voices (which ids it owns, which are installed here) and how to load one; the provider table in
:mod:`neura.tts.providers` reaches it by the engine's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from neura.config import Settings
    from neura.media import SpeechChunk

SILENCE_PHONEME = "_"
"""Phoneme symbol of a pause or silence, in both alphabets (IPA and ARPAbet)."""


Gender = Literal["female", "male", ""]
"""How a voice sounds, where its model card says so; "" when unknown (a user's own model or sample)."""


@dataclass(frozen=True)
class VoiceInfo:
    id: str  # the canonical voice reference, "engine:voice": "piper:en_US-joe-medium"
    engine: str  # a name in the TTS provider table: "piper", "espeak", "xtts"
    language: str  # BCP-47, "en-US"
    name: str
    license: str  # licence of the voice/model
    engine_license: str  # licence of the engine's code
    description: str = ""
    gender: Gender = ""


@runtime_checkable
class TTSEngine(Protocol):
    voice: VoiceInfo
    sample_rate_hz: int

    @property
    def name(self) -> str:
        """The engine's name in the provider table ("piper")."""
        ...

    def synthesize(self, text: str) -> Iterator[SpeechChunk]:
        """Normalise ``text``, split it into sentences and yield one chunk per sentence when ready.

        Raises :class:`~neura.errors.ScriptError` when ``text`` has nothing to say.
        """
        ...

    def synthesize_streaming(self, text: str) -> Iterator[SpeechChunk]:
        """As :meth:`synthesize`, but an engine that can may yield the first sentence's opening audio
        before the rest of it is made: a chunk with ``continues`` set, then the rest (live mode's first
        words). Engines that cannot yield what :meth:`synthesize` yields."""
        ...

    def speaking_rate_wps(self) -> float:
        """Measured words per second of this voice (cached on disk after the first measurement)."""
        ...


class TTSProvider(Protocol):
    """One engine's voices, as the registry asks for them. Nothing here loads a model except ``load``.

    ``voice`` arguments are the part after "engine:" in a voice reference ("en_US-joe-medium", "en-gb",
    a path to a model or sample where the engine takes one).
    """

    default_voice: str  # what "piper" alone means: its built-in default voice

    def owns(self, voice: str) -> bool:
        """Whether a bare voice id (no "engine:" before it) is one of this engine's, by its form alone."""
        ...

    def voices(self, settings: Settings) -> list[VoiceInfo]:
        """The voices usable here (nothing when the engine is not installed)."""
        ...

    def check(self, voice: str, settings: Settings) -> None:
        """Raise :class:`~neura.tts.voices.UnknownVoiceError` when ``voice`` is not one of this engine's,
        :class:`~neura.errors.EngineUnavailableError` when it is but cannot be loaded here."""
        ...

    def load(self, voice: str, settings: Settings, *, threads: int) -> TTSEngine:
        """Load ``voice`` (seconds for a neural model); the registry caches what this returns."""
        ...
