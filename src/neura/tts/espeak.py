"""Engine "espeak": espeak-ng (GPL-3.0-or-later) through ctypes. Robotic, but 300-1000x faster than
real time and with exact phoneme and word events, so it suits tests, previews and slow machines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from neura.errors import EngineUnavailableError
from neura.tts.base import SILENCE_PHONEME, Gender, VoiceInfo
from neura.tts.chunking import SpeechPiece, strip_stress
from neura.tts.engine import BaseTTS, PieceAudio
from neura.tts.espeak_lib import EVENT_PHONEME, EVENT_WORD, espeak_library
from neura.tts.voices import UnknownVoiceError
from neura.tts.wordmap import Phone

if TYPE_CHECKING:
    from neura.config import Settings

DEFAULT_VOICE = "en-us"
LISTED_VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb+f3")
"""The voices ``neura voices`` lists; any espeak-ng language, with a variant after '+', works."""
ALIGNMENT_OFFSET_S = 0.009
"""espeak-ng's word starts minus pocketsphinx's, median, in seconds; subtracted from every time.

Measured with ``PYTHONPATH=src .venv/bin/python bench/tts_offset.py --engine espeak``: +9.3 ms before
correction (p90 of |difference| 43 ms over 175 words), about 0 after.
"""

_LANGUAGES = {"en-us": "en-US", "en-gb": "en-GB", "en": "en-GB"}
_ESPEAK_NAMES = {"en-gb": "en", "en-uk": "en"}  # espeak-ng 1.52 names British English "en"
_VOICE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]+)*(?:\+[A-Za-z0-9_-]+)?")


def _gender(voice: str) -> Gender:
    variant = voice.partition("+")[2]
    if not variant or re.fullmatch(r"m\d", variant):
        return "male"  # espeak-ng's default voice and its m1..m8 variants
    return "female" if re.fullmatch(r"f\d", variant) else ""


def espeak_voice_info(voice: str = DEFAULT_VOICE) -> VoiceInfo:
    language = voice.partition("+")[0]
    return VoiceInfo(
        id=f"espeak:{voice}",
        engine="espeak",
        language=_LANGUAGES.get(language, language),
        name=f"espeak-ng {voice}",
        license="GPL-3.0-or-later (espeak-ng data)",
        engine_license="GPL-3.0-or-later",
        description="Formant synthesiser: robotic, instant; exact phoneme timings.",
        gender=_gender(voice),
    )


class EspeakEngine(BaseTTS):
    """espeak-ng voice ``voice``: a language ("en-us", "en-gb"), optionally with one of espeak-ng's
    variants ("en-us+f3": female); one process-wide library underneath."""

    name = "espeak"

    def __init__(
        self, voice: str = DEFAULT_VOICE, *, cache_dir: Path, alignment_offset_s: float = ALIGNMENT_OFFSET_S
    ) -> None:
        self._library = espeak_library()
        voice = (voice or DEFAULT_VOICE).strip()
        language, plus, variant = voice.partition("+")
        self._voice_name = _ESPEAK_NAMES.get(language.lower(), language) + plus + variant
        try:
            self._library.text_to_ipa("test", self._voice_name)  # fails early on an unknown voice
        except EngineUnavailableError as error:
            raise UnknownVoiceError(error.message, hint=error.hint) from None
        super().__init__(
            voice=espeak_voice_info(voice),
            sample_rate_hz=self._library.sample_rate_hz,
            cache_dir=cache_dir,
            alignment_offset_s=alignment_offset_s,
            phoneme_language=self._voice_name.partition("+")[0],
        )

    @property
    def engine_version(self) -> str:
        return f"espeak-ng {self._library.version}"

    def _synthesize_piece(self, piece: SpeechPiece) -> PieceAudio:
        speech = self._library.synthesize(piece.spoken, self._voice_name)
        samples = (speech.samples.astype(np.float32) / 32768.0).astype(np.float32)
        timeline: list[tuple[int, str, int]] = []  # (sample, phoneme, word group)
        group = -1
        for event in speech.events:
            if event.kind == EVENT_WORD:
                group += 1
            elif event.kind == EVENT_PHONEME:
                timeline.append((event.sample, strip_stress(event.phoneme) or SILENCE_PHONEME, max(group, 0)))
        ends = [sample for sample, _, _ in timeline[1:]] + [samples.size]
        phones = [
            Phone(symbol, sample, end, word_group)
            for (sample, symbol, word_group), end in zip(timeline, ends, strict=True)
            if symbol != SILENCE_PHONEME
        ]
        return PieceAudio(samples, [(sample, symbol) for sample, symbol, _ in timeline], phones)


class EspeakVoices:
    """espeak-ng's voices: any language it has, with or without a variant ("en-us+f3")."""

    default_voice = DEFAULT_VOICE

    def owns(self, voice: str) -> bool:
        return _VOICE.fullmatch(voice) is not None

    def voices(self, settings: Settings) -> list[VoiceInfo]:
        return [espeak_voice_info(voice) for voice in LISTED_VOICES]

    def check(self, voice: str, settings: Settings) -> None:
        if not self.owns(voice):
            raise UnknownVoiceError(
                f"there is no espeak-ng voice {voice!r}",
                hint=f"use a language such as {', '.join(LISTED_VOICES)} (a variant after '+')",
            )

    def load(self, voice: str, settings: Settings, *, threads: int) -> EspeakEngine:
        self.check(voice, settings)
        return EspeakEngine(voice, cache_dir=settings.cache_dir)


PROVIDER = EspeakVoices()
