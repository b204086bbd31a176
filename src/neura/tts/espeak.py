"""Engine "espeak": espeak-ng (GPL-3.0-or-later) through ctypes. Robotic, but 300-1000x faster than
real time and with exact phoneme and word events, so it suits tests, previews and slow machines."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from neura.media import SpeechChunk
from neura.tts.base import SILENCE_PHONEME, VoiceInfo
from neura.tts.chunking import SpeechPiece, apply_offset, spans_from_marks, speech_pieces, strip_stress
from neura.tts.espeak_lib import EVENT_PHONEME, EVENT_WORD, espeak_library
from neura.tts.rate import cached_rate_wps
from neura.tts.wordmap import Phone, map_words

_LOGGER = logging.getLogger(__name__)

DEFAULT_VOICE = "en-us"
ALIGNMENT_OFFSET_S = 0.009
"""espeak-ng's word starts minus pocketsphinx's, median, in seconds; subtracted from every time.

Measured with ``PYTHONPATH=src .venv/bin/python bench/tts_offset.py --engine espeak``: +9.3 ms before
correction (p90 of |difference| 43 ms over 175 words), about 0 after.
"""

_LANGUAGES = {"en-us": "en-US", "en-gb": "en-GB", "en": "en-GB"}
_ESPEAK_NAMES = {"en-gb": "en", "en-uk": "en"}  # espeak-ng 1.52 names British English "en"


def espeak_voice_info(voice: str = DEFAULT_VOICE) -> VoiceInfo:
    return VoiceInfo(
        id=f"espeak:{voice}",
        engine="espeak",
        language=_LANGUAGES.get(voice, voice),
        name=f"espeak-ng {voice}",
        license="GPL-3.0-or-later (espeak-ng data)",
        engine_license="GPL-3.0-or-later",
        description="Formant synthesiser: robotic, instant; exact phoneme timings.",
    )


class EspeakEngine:
    """espeak-ng voice ``voice`` (e.g. "en-us", "en-gb"); one process-wide library underneath."""

    name = "espeak"

    def __init__(
        self, voice: str = DEFAULT_VOICE, *, cache_dir: Path, alignment_offset_s: float = ALIGNMENT_OFFSET_S
    ) -> None:
        self._library = espeak_library()
        voice = (voice or DEFAULT_VOICE).strip()
        self._voice_name = _ESPEAK_NAMES.get(voice.lower(), voice)
        self._library.text_to_ipa("test", self._voice_name)  # fails early on an unknown voice
        self.voice = espeak_voice_info(voice)
        self.sample_rate_hz = self._library.sample_rate_hz
        self.alignment_offset_s = alignment_offset_s
        self._cache_dir = cache_dir

    @property
    def engine_version(self) -> str:
        return f"espeak-ng {self._library.version}"

    def synthesize(self, text: str) -> Iterator[SpeechChunk]:
        for piece in speech_pieces(text):
            yield self._synthesize_piece(piece)

    def _synthesize_piece(self, piece: SpeechPiece) -> SpeechChunk:
        started = time.perf_counter()
        speech = self._library.synthesize(piece.spoken, self._voice_name)
        samples = (speech.samples.astype(np.float32) / 32768.0).astype(np.float32)
        timeline: list[tuple[int, str, int]] = []  # (sample, phoneme, word group)
        group = -1
        for event in speech.events:
            if event.kind == EVENT_WORD:
                group += 1
            elif event.kind == EVENT_PHONEME:
                timeline.append((event.sample, strip_stress(event.phoneme) or SILENCE_PHONEME, max(group, 0)))
        marks = [(sample, symbol) for sample, symbol, _ in timeline]
        ends = [sample for sample, _, _ in timeline[1:]] + [samples.size]
        phones = [
            Phone(symbol, sample, end, word_group)
            for (sample, symbol, word_group), end in zip(timeline, ends, strict=True)
            if symbol != SILENCE_PHONEME
        ]
        spans = spans_from_marks(marks, samples.size, self.sample_rate_hz)
        words, quality = map_words(piece.words, phones, self.sample_rate_hz, self._voice_name)
        chunk = SpeechChunk(piece.text, samples, self.sample_rate_hz, alphabet="ipa")
        chunk.phonemes, chunk.words = apply_offset(spans, words, self.alignment_offset_s, chunk.duration_s)
        _LOGGER.debug(
            "espeak: %.2f s of audio in %.4f s, word match %.2f: %s",
            chunk.duration_s, time.perf_counter() - started, quality, piece.spoken,
        )  # fmt: skip
        return chunk

    def speaking_rate_wps(self) -> float:
        return cached_rate_wps(self, self._cache_dir, self.engine_version)
