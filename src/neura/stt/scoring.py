"""Word error rate: how far a transcript is from what was said.

Both texts are normalised the same way before counting, so "$42" and "forty-two dollars", "Dr." and
"Doctor", "3:30" and "three thirty" are the same words: NEURA's own TTS normaliser spells numbers and
abbreviations out, then case, punctuation and hyphens are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from neura.tts.normalize import normalize_text

_NOT_WORD = re.compile(r"[^a-z0-9' ]+")


def normalized_words(text: str) -> list[str]:
    """``text`` as lower-case spoken words: "Send $42, Dr. Lee!" -> ["send", "forty", "two", "dollars", ...]."""
    spoken = normalize_text(text).lower().replace("-", " ")
    return [w.strip("'") for w in _NOT_WORD.sub(" ", spoken).split() if w.strip("'")]


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions + deletions + insertions turning ``reference`` into ``hypothesis`` (Levenshtein)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp))
        previous = current
    return previous[-1]


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Errors over all reference words (a corpus WER, not a mean of per-sentence rates)."""
    if len(references) != len(hypotheses):
        raise ValueError("one hypothesis per reference")
    errors = words = 0
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        ref = normalized_words(reference)
        errors += edit_distance(ref, normalized_words(hypothesis))
        words += len(ref)
    return errors / words if words else 0.0
