"""Real Piper alignments (en_US joe medium, 22050 Hz), recorded once: phoneme and sample count.

"Hi, my boy bought a pure cheap thing." and "Was it the water?" — one list per sentence, with
Piper's ``^``/``$`` ends, stress and length marks, spaces and punctuation as spans of their own.
"""

from __future__ import annotations

from neura.media import PhonemeSpan

SAMPLE_RATE_HZ = 22050

SENTENCE_1 = [
    ("^", 1536), ("h", 768), ("ˈ", 2304), ("a", 2048), ("ɪ", 2048), (",", 2048), (" ", 3328),
    ("m", 768), ("a", 1536), ("ɪ", 512), (" ", 1280), ("b", 1792), ("ˈ", 768), ("ɔ", 1280),
    ("ɪ", 768), (" ", 1536), ("b", 768), ("ˈ", 768), ("ɔ", 1536), ("ː", 512), ("t", 512),
    (" ", 1024), ("ɐ", 1024), (" ", 1280), ("p", 768), ("j", 1024), ("ˈ", 768), ("ʊ", 1024),
    ("ɹ", 1024), (" ", 1024), ("t", 1024), ("ʃ", 512), ("ˈ", 1024), ("i", 1024), ("ː", 512),
    ("p", 1536), (" ", 1024), ("θ", 1536), ("ˈ", 1280), ("ɪ", 1792), ("ŋ", 1024), (".", 2304),
    ("$", 1280),
]  # fmt: skip
SENTENCE_2 = [
    ("^", 1024), ("w", 1024), ("ʌ", 1280), ("z", 1280), (" ", 1536), ("ɪ", 768), ("t", 1280),
    (" ", 1280), ("ð", 1024), ("ə", 1024), (" ", 1280), ("w", 768), ("ˈ", 2048), ("ɔ", 1280),
    ("ː", 512), ("ɾ", 1792), ("ɚ", 512), ("?", 2816), ("$", 768),
]  # fmt: skip


def spans(alignment: list[tuple[str, int]], start_s: float = 0.0) -> list[PhonemeSpan]:
    """Phoneme spans from (phoneme, sample count) pairs, the first starting at ``start_s``."""
    out: list[PhonemeSpan] = []
    samples = 0
    for phoneme, n in alignment:
        out.append(PhonemeSpan(phoneme, start_s + samples / SAMPLE_RATE_HZ, start_s + (samples + n) / SAMPLE_RATE_HZ))
        samples += n
    return out


def duration_s(alignment: list[tuple[str, int]]) -> float:
    return sum(n for _, n in alignment) / SAMPLE_RATE_HZ
