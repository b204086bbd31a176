"""Voice references: which engine speaks, with which of its voices, parsed once from what a user wrote.

    VoiceRef.parse("espeak:en-gb")   -> espeak:en-gb
    VoiceRef.parse("espeak")         -> espeak:en-us        (an engine: its default voice)
    VoiceRef.parse("en-gb")          -> espeak:en-gb        (a bare voice id names its engine)
    VoiceRef.configured(settings)    -> TTS_VOICE, else TTS_PROVIDER's default voice

``str(ref)`` is the canonical "engine:voice" id that ``GET /v1/voices`` and ``neura voices`` list. The
CLI (``--voice``), the API schemas and live sessions all hold a :class:`VoiceRef`; parsing checks the
form and the engine's name only. Whether the voice is installed here is the registry's question
(:func:`neura.tts.registry.find_voice`, :func:`neura.tts.create_tts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from neura.errors import InputError
from neura.tts.providers import TTS

if TYPE_CHECKING:
    from neura.config import Settings

VOICE_ID_CHARS = r"[A-Za-z0-9_.+\- ]{1,80}"
"""What a voice id written in an API request may contain (no paths: XTTS speakers have spaces)."""


class UnknownVoiceError(InputError):
    """No voice of that name: a typo or an engine that has no such voice (not a missing install)."""


def choices_hint() -> str:
    engines = ", ".join(TTS.names())
    examples = ", ".join(f"{name}:{TTS.create(name).default_voice}" for name in TTS.names()[:2])
    return f"give an engine ({engines}) or a voice id such as {examples}; `neura voices` and GET /v1/voices list them"


@dataclass(frozen=True)
class VoiceRef:
    """An engine of the TTS table and one of its voices (never empty: an engine alone means its default)."""

    engine: str
    voice: str

    def __str__(self) -> str:
        return f"{self.engine}:{self.voice}"

    @classmethod
    def parse(cls, text: str) -> VoiceRef:
        """``"engine"``, ``"engine:voice"`` or a bare voice id whose form names its engine.

        Raises :class:`UnknownVoiceError` (an :class:`InputError`) naming the choices.
        """
        written = text.strip()
        engine, colon, voice = written.partition(":")
        if colon and engine.strip().lower() in TTS:
            name = engine.strip().lower()
            return cls(name, voice.strip() or TTS.create(name).default_voice)
        if written.lower() in TTS:
            return cls(written.lower(), TTS.create(written.lower()).default_voice)
        if not written:
            raise UnknownVoiceError("no voice was given", hint=choices_hint())
        owners = _owners(written)
        if not owners and colon:
            raise UnknownVoiceError(f"there is no TTS engine named {engine.strip()!r}", hint=choices_hint())
        if not owners:
            raise UnknownVoiceError(f"there is no voice {written!r}", hint=choices_hint())
        return cls(owners[0], written)

    @classmethod
    def configured(cls, settings: Settings) -> VoiceRef:
        """The deployment's default voice: ``TTS_VOICE`` when set, else ``TTS_PROVIDER``'s default.

        A bare ``TTS_VOICE`` belongs to ``TTS_PROVIDER`` unless it is plainly another engine's ("en-gb"
        is espeak's while piper is configured); so a name only the engine itself can judge (an XTTS
        speaker) works with its engine configured.
        """
        engine, voice = settings.tts_provider, settings.tts_voice.strip()
        if not voice:
            return cls(engine, TTS.create(engine).default_voice)
        prefix, colon, _ = voice.partition(":")
        if voice.lower() in TTS or (colon and prefix.strip().lower() in TTS):
            return cls.parse(voice)
        owners = _owners(voice)
        return cls(engine if engine in owners or not owners else owners[0], voice)


def _owners(voice: str) -> list[str]:
    """The engines whose voice ids look like ``voice``, in the table's order."""
    return [name for name in TTS.names() if TTS.create(name).owns(voice)]
