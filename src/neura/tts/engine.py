"""The base of every TTS engine: an engine writes only how it synthesises one piece of text.

:class:`BaseTTS` owns the rest of the contract in :mod:`neura.tts.base`: normalising and splitting the
text into pieces (:func:`~neura.tts.chunking.speech_pieces`), turning the engine's phoneme marks into
contiguous spans, finding the words (:func:`~neura.tts.wordmap.map_words`, or forced alignment when
they do not match well, or when the engine has no timings at all), correcting the engine's measured
alignment offset, and the cached speaking rate::

    class MyEngine(BaseTTS):
        name = "mine"

        def _synthesize_piece(self, piece: SpeechPiece) -> PieceAudio:
            samples, marks, phones = ...     # audio of piece.spoken, with phoneme starts if known
            return PieceAudio(samples, marks, phones)
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from neura.media import PhonemeSpan, SpeechChunk, WordSpan
from neura.tts.align import AlignmentError, align_spoken_words
from neura.tts.base import VoiceInfo
from neura.tts.chunking import SpeechPiece, apply_offset, spans_from_marks, speech_pieces
from neura.tts.rate import cached_rate_wps
from neura.tts.sentences import MAX_CHUNK_CHARS
from neura.tts.wordmap import Phone, map_words

_LOGGER = logging.getLogger(__name__)

MIN_WORD_MATCH = 0.5
"""Below this match between the words and the engine's phone string, words come from forced alignment."""


@dataclass
class PieceAudio:
    """What an engine makes of one piece of text.

    ``marks``: where each phoneme starts, ``(sample, symbol)`` sorted by time, pauses as
    :data:`~neura.tts.base.SILENCE_PHONEME`, stress marks removed; None when the engine does not know
    (its words and phones then come from forced alignment, in ARPAbet). ``phones``: the sounding phones
    with the engine's word grouping, to find the words.
    """

    samples: npt.NDArray[np.float32]
    marks: list[tuple[int, str]] | None = None
    phones: list[Phone] = field(default_factory=list)


class BaseTTS(ABC):
    """A TTS engine: give it ``voice``, ``sample_rate_hz`` and the rest; write :meth:`_synthesize_piece`
    and :attr:`engine_version`. ``synthesize`` and ``speaking_rate_wps`` come from here."""

    name: ClassVar[str]
    max_piece_chars: ClassVar[int] = MAX_CHUNK_CHARS

    def __init__(
        self,
        *,
        voice: VoiceInfo,
        sample_rate_hz: int,
        cache_dir: Path,
        alignment_offset_s: float = 0.0,
        phoneme_language: str = "en-us",
    ) -> None:
        self.voice = voice
        self.sample_rate_hz = sample_rate_hz
        self.cache_dir = cache_dir
        self.alignment_offset_s = alignment_offset_s  # the engine's word starts minus an aligner's, median
        self.phoneme_language = phoneme_language  # espeak-ng's name of the language, to find the words

    @property
    @abstractmethod
    def engine_version(self) -> str:
        """Names the engine's code and version; a new version measures the speaking rate again."""

    @abstractmethod
    def _synthesize_piece(self, piece: SpeechPiece) -> PieceAudio:
        """Speak ``piece.spoken`` (normalised text: what the voice says)."""

    def synthesize(self, text: str) -> Iterator[SpeechChunk]:
        """One chunk per sentence (or piece of a long one), each as soon as it is ready; raises
        :class:`~neura.errors.ScriptError` when ``text`` has nothing to say."""
        for piece in speech_pieces(text, self.max_piece_chars):
            started = time.perf_counter()
            chunk = self._timed_chunk(piece, self._synthesize_piece(piece))
            _LOGGER.debug(
                "%s: %.2f s of audio in %.3f s: %s",
                self.name, chunk.duration_s, time.perf_counter() - started, piece.spoken,
            )  # fmt: skip
            yield chunk

    def synthesize_streaming(self, text: str) -> Iterator[SpeechChunk]:
        """What :meth:`synthesize` yields; engines that can make a sentence's opening first override it."""
        return self.synthesize(text)

    def speaking_rate_wps(self) -> float:
        """Measured words per second of this voice (cached on disk after the first measurement)."""
        return cached_rate_wps(self, self.cache_dir, self.engine_version)

    def _timings(
        self, piece: SpeechPiece, marks: list[tuple[int, str]], phones: list[Phone], total_samples: int
    ) -> tuple[list[PhonemeSpan], list[WordSpan], float]:
        """Phoneme spans and words of ``total_samples`` of audio from the engine's marks, offset-corrected,
        and how well the words matched the engine's phones (0..1)."""
        rate = self.sample_rate_hz
        spans = spans_from_marks(marks, total_samples, rate)
        words, quality = map_words(piece.words, phones, rate, self.phoneme_language)
        phonemes, words = apply_offset(spans, words, self.alignment_offset_s, total_samples / rate)
        return phonemes, words, quality

    def _timed_chunk(self, piece: SpeechPiece, audio: PieceAudio) -> SpeechChunk:
        samples, rate = audio.samples, self.sample_rate_hz
        chunk = SpeechChunk(piece.text, samples, rate, alphabet="ipa")
        if audio.marks is None:  # no timings of its own: an independent aligner's words and phones
            chunk.words, chunk.phonemes = align_spoken_words(samples, rate, piece.words)
            chunk.alphabet = "arpabet"
            return chunk
        chunk.phonemes, chunk.words, quality = self._timings(piece, audio.marks, audio.phones, samples.size)
        if quality < MIN_WORD_MATCH:
            _LOGGER.debug("%s: word match %.2f, aligning words instead: %s", self.name, quality, piece.spoken)
            chunk.words = _aligned_words(samples, rate, piece.words, chunk.words)
        return chunk


def _aligned_words(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, words: Sequence[str], mapped: list[WordSpan]
) -> list[WordSpan]:
    try:
        return align_spoken_words(samples, sample_rate_hz, words)[0]
    except AlignmentError as error:
        _LOGGER.warning("Forced alignment failed (%s); keeping the engine's approximate word times", error)
        return mapped
