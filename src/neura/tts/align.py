"""Forced alignment of speech to a known transcript with pocketsphinx 5 (BSD; en-us model in the wheel).

``align_words(samples, sample_rate_hz, transcript)`` says when each word and ARPAbet phone of the
transcript is spoken. It serves engines without timings of their own (XTTS), the offset measurement of
the others (bench/tts_offset.py), and a user's own recording driving an avatar.

Accuracy: 10 ms frames, about 20 ms from true phone starts on clean speech; about 37x faster than
real time on one core. Words missing from pocketsphinx's dictionary get a pronunciation from espeak-ng.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from neura.errors import EngineUnavailableError, InputError
from neura.media import PhonemeSpan, WordSpan
from neura.tts.arpabet import ipa_to_arpabet
from neura.tts.base import SILENCE_PHONEME
from neura.tts.chunking import spans_from_marks
from neura.tts.espeak_lib import espeak_library
from neura.tts.normalize import normalize_text
from neura.tts.sentences import speech_words

ALIGN_SAMPLE_RATE_HZ = 16000
FRAMES_PER_S = 100
MIN_AUDIO_S = 0.1
_NON_WORDS = {"<s>", "</s>", "<sil>", "(NULL)"}
_ALTERNATE = re.compile(r"\(\d+\)$")


class AlignmentError(InputError):
    """The audio cannot be aligned to the transcript (empty audio, no words, or they do not match)."""


def resample(samples: npt.NDArray[np.float32], from_hz: int, to_hz: int) -> npt.NDArray[np.float32]:
    """Band-limited resampling by FFT (exact for a whole clip; no extra dependency)."""
    if from_hz == to_hz or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    count = round(samples.size * to_hz / from_hz)
    spectrum = np.fft.rfft(samples.astype(np.float64))
    bins = count // 2 + 1
    if bins <= spectrum.size:
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - spectrum.size, dtype=spectrum.dtype)])
    return (np.fft.irfft(spectrum, count) * (count / samples.size)).astype(np.float32)


_WIDE_BEAMS = {"beam": 1e-100, "wbeam": 1e-80, "pbeam": 1e-100}
"""Second try when the default beams prune the only path (fast or synthetic speech): about 2x slower."""


class _Aligner:
    """pocketsphinx decoders (0.15 s each to build), reused under a lock: default beams, then wide ones."""

    def __init__(self) -> None:
        try:
            import pocketsphinx
        except ImportError as error:
            raise EngineUnavailableError(
                "Forced alignment needs the pocketsphinx package.", hint="pip install pocketsphinx==5.1.1"
            ) from error
        self._pocketsphinx: Any = pocketsphinx
        self._decoders: dict[bool, Any] = {}
        self._lock = threading.Lock()

    def _decoder(self, wide: bool) -> Any:
        if wide not in self._decoders:
            beams = _WIDE_BEAMS if wide else {}
            self._decoders[wide] = self._pocketsphinx.Decoder(lm=None, bestpath=False, loglevel="FATAL", **beams)
        return self._decoders[wide]

    @staticmethod
    def _dictionary_word(decoder: Any, word: str) -> str | None:
        """The dictionary entry for ``word``, added from espeak-ng's pronunciation if missing."""
        key = word.lower().strip("'")
        if not key:
            return None
        if decoder.lookup_word(key):
            return key
        phonemes = [p for w in espeak_library().text_to_ipa(key.replace(".", " "), "en-us") for p in w]
        phones = ipa_to_arpabet(phonemes)
        if not phones:
            return None
        decoder.add_word(key, " ".join(phones), True)
        return key

    @staticmethod
    def _decode(decoder: Any, pcm: bytes) -> None:
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()

    def _try(self, wide: bool, pcm: bytes, words: Sequence[str]) -> tuple[list[str | None], Any]:
        decoder = self._decoder(wide)
        keys = [self._dictionary_word(decoder, w) for w in words]
        alignable = [k for k in keys if k]
        if not alignable:
            raise AlignmentError(
                "The transcript has no words that can be aligned.",
                hint="Give the words spoken in the recording, in English.",
            )
        decoder.set_align_text(" ".join(alignable))
        self._decode(decoder, pcm)
        decoder.set_alignment()  # RuntimeError when the first pass found no path
        self._decode(decoder, pcm)
        return keys, decoder.get_alignment()

    def align(
        self, pcm: bytes, words: Sequence[str]
    ) -> tuple[list[str | None], list[tuple[str, list[tuple[str, int, int]]]]]:
        """Each word's dictionary entry (None: no pronunciation, left out) and the alignment:
        ``[(entry, [(phone, start frame, end frame), ...]), ...]``, silences included."""
        with self._lock:
            try:
                keys, alignment = self._try(False, pcm, words)
            except RuntimeError:
                try:
                    keys, alignment = self._try(True, pcm, words)
                except RuntimeError as error:
                    raise AlignmentError(
                        f"The transcript could not be aligned to the audio ({error}).",
                        hint="Check that the transcript is what the recording says and that it is clear speech.",
                    ) from error
            entries = [(entry.name, [(p.name, p.start, p.start + p.duration) for p in entry]) for entry in alignment]
            return keys, entries


@lru_cache(maxsize=1)
def _aligner() -> _Aligner:
    return _Aligner()


def _pcm16(samples: npt.NDArray[np.float32], sample_rate_hz: int) -> bytes:
    audio = resample(samples, sample_rate_hz, ALIGN_SAMPLE_RATE_HZ)
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def align_spoken_words(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, words: Sequence[str]
) -> tuple[list[WordSpan], list[PhonemeSpan]]:
    """Like :func:`align_words` for already normalised words (``speech_words(normalize_text(...))``).

    ``samples``: mono float audio in [-1, 1] (or integer PCM, scaled by 1/32768)."""
    raw = np.asarray(samples)
    scale = 1.0 / 32768.0 if np.issubdtype(raw.dtype, np.integer) else 1.0  # int16 PCM is welcome too
    audio = np.nan_to_num(raw.astype(np.float32) * np.float32(scale))
    if audio.ndim != 1:
        raise AlignmentError(
            f"Expected mono audio (one channel), got an array of shape {audio.shape}.",
            hint="Mix the channels down to one (average them) before aligning.",
        )
    if sample_rate_hz <= 0 or audio.size < MIN_AUDIO_S * max(sample_rate_hz, 1):
        raise AlignmentError(
            f"The audio is empty or shorter than {MIN_AUDIO_S:.1f} s.", hint="Record some speech first."
        )
    if not words:
        raise AlignmentError("The transcript has no words.", hint="Give the words spoken in the recording.")
    keys, aligned = _aligner().align(_pcm16(audio, sample_rate_hz), words)
    samples_per_frame = sample_rate_hz / FRAMES_PER_S
    marks: list[tuple[int, str]] = []
    timed: list[tuple[float, float]] = []
    for name, phones in aligned:
        for phone, start, _ in phones:
            symbol = SILENCE_PHONEME if phone == "SIL" or phone.startswith("+") else phone
            marks.append((round(start * samples_per_frame), symbol))
        if name not in _NON_WORDS and phones:
            timed.append((phones[0][1] / FRAMES_PER_S, phones[-1][2] / FRAMES_PER_S))
    duration_s = audio.size / sample_rate_hz
    spans: list[WordSpan] = []
    timed_iter = iter(timed)
    previous_end_s = 0.0
    for word, key in zip(words, keys, strict=True):  # a word left out (no pronunciation) gets an empty span in place
        start_s, end_s = next(timed_iter, (previous_end_s,) * 2) if key else (previous_end_s,) * 2
        end_s = min(end_s, duration_s)
        spans.append(WordSpan(word, min(start_s, end_s), end_s))
        previous_end_s = end_s
    return spans, spans_from_marks(sorted(marks), audio.size, sample_rate_hz)


def align_words(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, transcript: str
) -> tuple[list[WordSpan], list[PhonemeSpan]]:
    """Align ``transcript`` (written text: numbers and symbols are normalised first) to mono ``samples``.

    Returns the transcript's spoken words and ARPAbet phones (pauses are ``SILENCE_PHONEME``), times in
    seconds from the first sample; phones are contiguous from 0 to the end of the audio. Raises
    :class:`AlignmentError` for empty audio, a transcript without alignable words, or a failed alignment.
    """
    return align_spoken_words(samples, sample_rate_hz, speech_words(normalize_text(transcript)))
