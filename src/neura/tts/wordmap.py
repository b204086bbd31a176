"""Which of an engine's phones belong to which spoken word.

Engines group phones into words (Piper by space phonemes, espeak-ng by word events), but espeak-ng joins
some words ("of the" -> "ʌvðə", "in the" -> "ɪnðə") and treats hyphenated ones as one, so the groups do
not always match the words one to one. When they do, the mapping is direct; when they do not, each
word's phonemes on its own (espeak-ng, cached) are aligned to the engine's phone string with
:class:`difflib.SequenceMatcher`, and each word starts at the phone its first phoneme maps to.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from neura.media import WordSpan
from neura.tts.chunking import strip_stress
from neura.tts.espeak_lib import espeak_library


@dataclass(frozen=True)
class Phone:
    """A sounding phone of an engine's output (no pauses), in samples from the chunk start."""

    symbol: str  # IPA, stress marks removed
    start: int
    end: int
    group: int  # the engine's word group


@lru_cache(maxsize=4096)
def reference_phonemes(word: str, voice: str = "en-us") -> str:
    """The phoneme string of ``word`` said on its own (stress marks removed)."""
    return "".join(strip_stress(p) for w in espeak_library().text_to_ipa(word, voice) for p in w)


def _word_start_phones(words: Sequence[str], phones: Sequence[Phone], voice: str) -> tuple[list[int], float]:
    """Index of the first phone of each word, and how well the strings matched (0..1)."""
    groups = sorted({p.group for p in phones})
    if len(groups) == len(words):
        first_of_group: dict[int, int] = {}
        for index, phone in enumerate(phones):
            first_of_group.setdefault(phone.group, index)
        return [first_of_group[g] for g in groups], 1.0

    reference, word_offsets = "", []
    for word in words:
        reference += " " if reference else ""
        word_offsets.append(len(reference))
        reference += reference_phonemes(word, voice)
    hypothesis, phone_of_char = "", []
    for index, phone in enumerate(phones):
        if index and phone.group != phones[index - 1].group:
            hypothesis += " "
            phone_of_char.append(index)
        hypothesis += phone.symbol
        phone_of_char.extend([index] * len(phone.symbol))
    matcher = difflib.SequenceMatcher(None, reference, hypothesis, autojunk=False)
    to_hypothesis = list(range(len(reference)))
    for tag, r1, r2, h1, h2 in matcher.get_opcodes():
        for offset in range(r2 - r1):
            if tag == "equal":
                to_hypothesis[r1 + offset] = h1 + offset
            elif tag == "replace":
                to_hypothesis[r1 + offset] = h1 + offset * (h2 - h1) // (r2 - r1)
            else:  # delete: nothing in the engine's string for it
                to_hypothesis[r1 + offset] = h1
    last_char = len(phone_of_char) - 1
    starts = [
        phone_of_char[min(to_hypothesis[o] if o < len(to_hypothesis) else last_char, last_char)] for o in word_offsets
    ]
    return starts, matcher.ratio()


def map_words(
    words: Sequence[str], phones: Sequence[Phone], sample_rate_hz: int, voice: str = "en-us"
) -> tuple[list[WordSpan], float]:
    """Word spans from the engine's phones, and the match quality (1.0 when groups matched words)."""
    if not words or not phones:
        return [], 0.0
    starts, quality = _word_start_phones(words, phones, voice)
    for index in range(1, len(starts)):  # every word gets at least one phone while phones last
        starts[index] = min(max(starts[index], starts[index - 1] + 1), len(phones) - 1)
    spans: list[WordSpan] = []
    for index, word in enumerate(words):
        first = starts[index]
        last = starts[index + 1] - 1 if index + 1 < len(starts) else len(phones) - 1
        last = max(last, first)
        start_s = phones[first].start / sample_rate_hz
        end_s = max(phones[last].end / sample_rate_hz, start_s)
        if spans and start_s < spans[-1].end_s:  # more words than phones: squeeze, never overlap
            start_s = end_s = spans[-1].end_s
        spans.append(WordSpan(word, start_s, end_s))
    return spans, quality
