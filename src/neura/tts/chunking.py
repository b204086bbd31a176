"""What engines share between text and a finished SpeechChunk: pieces to speak, spans, offset correction,
and the pause after a chunk."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from neura.errors import ScriptError
from neura.media import PhonemeSpan, SpeechChunk, WordSpan
from neura.tts.base import SILENCE_PHONEME
from neura.tts.normalize import foreign_script, normalize_text, strip_markup
from neura.tts.sentences import MAX_CHUNK_CHARS, split_for_speech, word_tokens

STRESS_MARKS = "ˈˌ"


@dataclass(frozen=True)
class SpeechPiece:
    """One piece of text an engine synthesises at once (a sentence, or part of a long one)."""

    text: str  # as written, for subtitles
    spoken: str  # normalised: what the voice says
    words: tuple[str, ...]  # the spoken words, in order


def speech_pieces(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[SpeechPiece]:
    """Split ``text`` into pieces to speak; raise :class:`ScriptError` when there is nothing to say."""
    text = strip_markup(text)  # so that subtitles show the words too, not the tags
    script = foreign_script(text)
    if script:
        raise ScriptError(
            f"the text is written in {script} script; NEURA's voices speak English",
            hint="write the text in English (Latin letters)",
        )
    pieces: list[SpeechPiece] = []
    for part in split_for_speech(text, max_chars):
        spoken = normalize_text(part)
        words = tuple(word for word, _, _ in word_tokens(spoken))
        if words:
            pieces.append(SpeechPiece(part, spoken, words))
    if not pieces:
        raise ScriptError("There is no text to speak.", hint="Give the voice at least one word (letters or digits).")
    return pieces


def strip_stress(phoneme: str) -> str:
    return phoneme.translate({ord(c): None for c in STRESS_MARKS})


def spans_from_marks(marks: list[tuple[int, str]], total_samples: int, sample_rate_hz: int) -> list[PhonemeSpan]:
    """Contiguous phoneme spans from ``(start_sample, symbol)`` marks sorted by time.

    Silence fills the start when the first mark is late; each span ends where the next starts; the last
    ends at ``total_samples``. Zero-length spans are dropped and neighbouring silences merged.
    """
    spans: list[PhonemeSpan] = []
    bounded = [(0, SILENCE_PHONEME), *marks] if not marks or marks[0][0] > 0 else list(marks)
    for index, (start, symbol) in enumerate(bounded):
        end = bounded[index + 1][0] if index + 1 < len(bounded) else total_samples
        start, end = min(max(start, 0), total_samples), min(max(end, 0), total_samples)
        if end <= start:
            continue
        symbol = symbol or SILENCE_PHONEME
        if spans and spans[-1].phoneme == SILENCE_PHONEME == symbol:
            spans[-1] = PhonemeSpan(symbol, spans[-1].start_s, end / sample_rate_hz)
        else:
            spans.append(PhonemeSpan(symbol, start / sample_rate_hz, end / sample_rate_hz))
    if spans:  # exact ends, whatever the rounding
        spans[0] = PhonemeSpan(spans[0].phoneme, 0.0, spans[0].end_s)
        spans[-1] = PhonemeSpan(spans[-1].phoneme, spans[-1].start_s, total_samples / sample_rate_hz)
    return spans


def apply_offset(
    phonemes: list[PhonemeSpan], words: list[WordSpan], offset_s: float, duration_s: float
) -> tuple[list[PhonemeSpan], list[WordSpan]]:
    """Move every time ``offset_s`` earlier (the engine's measured lateness), kept inside the chunk.

    Phoneme spans stay contiguous from 0 to ``duration_s``; spans squeezed to nothing are dropped.
    """

    def clamp(t: float) -> float:
        return min(max(t - offset_s, 0.0), duration_s)

    moved: list[PhonemeSpan] = []
    for index, span in enumerate(phonemes):
        start = 0.0 if index == 0 else clamp(span.start_s)
        end = duration_s if index == len(phonemes) - 1 else clamp(span.end_s)
        if end > start:
            moved.append(PhonemeSpan(span.phoneme, start, end))
    if moved:
        moved[0] = PhonemeSpan(moved[0].phoneme, 0.0, moved[0].end_s)
        moved[-1] = PhonemeSpan(moved[-1].phoneme, moved[-1].start_s, duration_s)
    moved_words = [WordSpan(w.word, clamp(w.start_s), max(clamp(w.start_s), clamp(w.end_s))) for w in words]
    return moved, moved_words


def with_pause(chunk: SpeechChunk, pause_s: float) -> SpeechChunk:
    """``chunk`` followed by ``pause_s`` of silence: the audio padded with zeros and the silence span at
    its end (or a new one) stretched to the new end, so the phonemes still cover the audio."""
    count = round(pause_s * chunk.sample_rate_hz)
    if count <= 0:
        return chunk
    end_s = (chunk.samples.size + count) / chunk.sample_rate_hz
    phonemes = list(chunk.phonemes)
    if phonemes and phonemes[-1].phoneme == SILENCE_PHONEME:
        phonemes[-1] = PhonemeSpan(SILENCE_PHONEME, phonemes[-1].start_s, end_s)
    else:
        phonemes.append(PhonemeSpan(SILENCE_PHONEME, chunk.duration_s, end_s))
    samples = np.concatenate([chunk.samples, np.zeros(count, np.float32)])
    return replace(chunk, samples=samples, phonemes=phonemes, words=list(chunk.words))
