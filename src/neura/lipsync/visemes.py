"""The viseme set and the tables that map phonemes (IPA or ARPAbet) onto it.

Fifteen visemes, the set common in the industry (Oculus/Meta lip sync, also used by many avatar
SDKs): ``sil PP FF TH DD kk CH SS nn RR aa E ih oh ou``. Each has a target :class:`MouthPose` and a
coarticulation *dominance*: how strongly it claims the mouth against its neighbours (bilabial and
labiodental closures win; vowels set the jaw; tongue consonants borrow the mouth of the vowels
around them), and how far its influence reaches before (anticipation) and after (carry-over) its
own segment. See ``docs/visemes.md`` for the model and the reasoning behind the numbers.

Phoneme strings come from three sources and all of them are accepted:

* Piper alignments: one IPA code point per span, with stress marks (``ˈ``), length (``ː``), the
  syllabic mark (U+0329) and punctuation/space as spans of their own, plus ``^``/``$`` at the ends.
* espeak-ng phoneme events: whole IPA phonemes (``aɪ``, ``tʃ``, ``ɑːɹ``, ``n̩``, ``ˈoʊ``).
* pocketsphinx: ARPAbet (``AA1``, ``B``, ``SIL``, ``+NSN+``).

A span whose symbols are only marks (a stress mark, a length mark) carries no mouth shape of its
own: :func:`phoneme_targets` says which neighbour absorbs its time. Unknown letters map to
:data:`DEFAULT_VISEME`; nothing raises.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from neura.media import MouthPose, PhonemeAlphabet

VisemeName = Literal["sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou"]


@dataclass(frozen=True)
class Viseme:
    """A mouth target and how strongly it holds the mouth.

    ``dominance`` is the weight of this viseme inside its own segment; outside it decays as
    ``exp(-distance / anticipation_s)`` before the segment and ``exp(-distance / carryover_s)`` after.
    """

    name: VisemeName
    pose: MouthPose
    dominance: float
    anticipation_s: float
    carryover_s: float
    examples: str


def _v(
    name: VisemeName,
    pose: tuple[float, float, float, float, float],
    dominance: float,
    anticipation_s: float,
    carryover_s: float,
    examples: str,
) -> Viseme:
    return Viseme(name, MouthPose(*pose), dominance, anticipation_s, carryover_s, examples)


# pose = (open, spread, round, close, tongue)
VISEMES: dict[VisemeName, Viseme] = {
    v.name: v
    for v in (
        _v("sil", (0.0, 0.0, 0.0, 0.0, 0.0), 4.0, 0.012, 0.012, "silence, pauses: lips together, relaxed"),
        _v("PP", (0.0, 0.0, 0.0, 1.0, 0.0), 8.0, 0.010, 0.008, "p b m: lips pressed together"),
        _v("FF", (0.08, 0.2, 0.0, 0.35, 0.0), 5.0, 0.012, 0.010, "f v: lower lip to upper teeth"),
        _v("TH", (0.3, 0.12, 0.0, 0.0, 1.0), 1.5, 0.015, 0.015, "θ ð: tongue between the teeth"),
        _v("DD", (0.28, 0.15, 0.0, 0.0, 0.5), 0.5, 0.015, 0.015, "t d ɾ: tongue tip on the ridge"),
        _v("kk", (0.32, 0.1, 0.0, 0.0, 0.0), 0.4, 0.015, 0.015, "k g ŋ: back of the tongue raised"),
        _v("CH", (0.22, 0.0, 0.6, 0.0, 0.0), 1.8, 0.020, 0.015, "tʃ dʒ ʃ ʒ: lips pushed forward"),
        _v("SS", (0.12, 0.45, 0.0, 0.0, 0.2), 1.5, 0.015, 0.015, "s z: teeth nearly together, lips spread"),
        _v("nn", (0.2, 0.12, 0.0, 0.0, 0.7), 0.5, 0.015, 0.015, "n l: tongue up, jaw half closed"),
        _v("RR", (0.25, 0.0, 0.45, 0.0, 0.0), 1.0, 0.020, 0.015, "ɹ ɚ ɝ: lips slightly rounded"),
        _v("aa", (1.0, 0.15, 0.0, 0.0, 0.0), 1.0, 0.020, 0.018, "ɑ a æ ʌ: jaw wide open"),
        _v("E", (0.7, 0.4, 0.0, 0.0, 0.0), 1.0, 0.020, 0.018, "ɛ e: open, corners out"),
        _v("ih", (0.45, 0.6, 0.0, 0.0, 0.0), 1.0, 0.020, 0.018, "ɪ i j: half open, spread"),
        _v("oh", (0.62, 0.0, 0.7, 0.0, 0.0), 1.0, 0.020, 0.018, "ɔ o: open and rounded"),
        _v("ou", (0.3, 0.0, 1.0, 0.0, 0.0), 1.2, 0.022, 0.018, "u ʊ w: small rounded opening"),
    )
}
VISEME_NAMES: tuple[VisemeName, ...] = tuple(VISEMES)
DEFAULT_VISEME: VisemeName = "DD"
"""Target for a letter no table knows: a slightly open, weak (easily coarticulated) mouth."""

# IPA symbols (after stress/length/diacritic marks are stripped). Multi-letter keys are single
# phonemes (affricates); any other multi-letter string is split into its letters, so diphthongs
# (aɪ eɪ oʊ aʊ ɔɪ) and r-coloured sequences (ɑːɹ) become two targets that share the span.
IPA_TO_VISEMES: dict[str, VisemeName] = {
    # closures and near closures
    "p": "PP", "b": "PP", "m": "PP", "ɱ": "FF", "f": "FF", "v": "FF", "θ": "TH", "ð": "TH",
    # tongue tip, tongue back
    "t": "DD", "d": "DD", "ɾ": "DD", "ɽ": "DD", "k": "kk", "g": "kk", "ɡ": "kk", "ŋ": "kk",
    "x": "kk", "ɣ": "kk", "q": "kk", "ʔ": "kk", "h": "kk", "ɦ": "kk",
    "tʃ": "CH", "dʒ": "CH", "ʧ": "CH", "ʤ": "CH", "ʃ": "CH", "ʒ": "CH", "ɕ": "CH", "ʑ": "CH",
    "s": "SS", "z": "SS", "ts": "SS", "dz": "SS", "ʦ": "SS", "ç": "SS",
    "n": "nn", "l": "nn", "ɫ": "nn", "ɲ": "nn", "ʎ": "nn", "ɬ": "nn",
    "ɹ": "RR", "r": "RR", "ɻ": "RR", "ʁ": "RR", "ɚ": "RR", "ɝ": "RR",
    # glides
    "w": "ou", "ʍ": "ou", "j": "ih", "ɥ": "ou",
    # vowels
    "ɑ": "aa", "a": "aa", "æ": "aa", "ʌ": "aa", "ɐ": "aa", "ɒ": "oh",
    "ɛ": "E", "e": "E", "ə": "E", "ɜ": "E", "œ": "E", "ɘ": "E",
    "ɪ": "ih", "i": "ih", "ᵻ": "ih", "ɨ": "ih", "y": "ih", "ʏ": "ih",
    "ɔ": "oh", "o": "oh", "ø": "oh", "ɤ": "oh",
    "ʊ": "ou", "u": "ou", "ɯ": "ou", "ʉ": "ou",
}  # fmt: skip

ARPABET_TO_VISEMES: dict[str, tuple[VisemeName, ...]] = {
    "AA": ("aa",), "AE": ("aa",), "AH": ("aa",), "AO": ("oh",), "AW": ("aa", "ou"), "AY": ("aa", "ih"),
    "EH": ("E",), "ER": ("RR",), "EY": ("E", "ih"), "IH": ("ih",), "IY": ("ih",), "OW": ("oh", "ou"),
    "OY": ("oh", "ih"), "UH": ("ou",), "UW": ("ou",), "AX": ("E",), "AXR": ("RR",), "IX": ("ih",),
    "B": ("PP",), "P": ("PP",), "M": ("PP",), "EM": ("PP",), "F": ("FF",), "V": ("FF",),
    "TH": ("TH",), "DH": ("TH",), "T": ("DD",), "D": ("DD",), "DX": ("DD",), "NX": ("nn",),
    "K": ("kk",), "G": ("kk",), "NG": ("kk",), "HH": ("kk",), "Q": ("kk",),
    "CH": ("CH",), "JH": ("CH",), "SH": ("CH",), "ZH": ("CH",), "S": ("SS",), "Z": ("SS",),
    "N": ("nn",), "EN": ("nn",), "L": ("nn",), "EL": ("nn",), "R": ("RR",), "W": ("ou",), "Y": ("ih",),
}  # fmt: skip

# Phonemes whose mouth belongs to their neighbours (h takes the next vowel's shape, a glottal stop
# keeps the current one): their dominance is scaled down so they barely pull.
WEAK_PHONEMES: dict[str, float] = {"h": 0.1, "ɦ": 0.1, "ʔ": 0.15, "HH": 0.1, "Q": 0.15}
# Reduced vowels open the mouth less than their full counterparts.
REDUCED_VOWELS: dict[str, float] = {"ə": 0.6, "ɐ": 0.6, "ᵻ": 0.8, "ɨ": 0.8, "AX": 0.6, "IX": 0.8}

_SILENCE_IPA = frozenset({"^", "$", "_", "#", "|", "‖"})
_ATTACH_NEXT = frozenset({"ˈ", "ˌ"})  # stress marks precede the stressed vowel
_ARPABET_SILENCE = frozenset({"SIL", "SP", "SPN", "NSN", "<S>", "</S>", "<SIL>", "PAU", "H#", "EPI"})


@dataclass(frozen=True)
class VisemeTarget:
    """One target inside a phoneme's span: ``amplitude`` scales open/spread/round (reduced vowels
    < 1); ``weight`` scales the viseme's dominance (weak phonemes < 1)."""

    viseme: VisemeName
    amplitude: float = 1.0
    weight: float = 1.0


Attach = Literal["previous", "next"]
SILENCE: tuple[VisemeTarget, ...] = (VisemeTarget("sil"),)


def _is_mark(char: str) -> bool:
    """Stress, length, tie and diacritic marks: no mouth shape of their own."""
    if char in "ˈˌːˑ‿͡˞'":
        return True
    return unicodedata.category(char) in ("Mn", "Me", "Lm", "Sk")


def _ipa_targets(phoneme: str) -> tuple[VisemeTarget, ...] | Attach:
    text = phoneme.strip()
    if not text or text in _SILENCE_IPA:
        return SILENCE
    letters = "".join(c for c in text if not _is_mark(c))
    if not letters:
        return "next" if any(c in _ATTACH_NEXT for c in text) else "previous"
    targets: list[VisemeTarget] = []
    i = 0
    while i < len(letters):
        pair = letters[i : i + 2]
        key = pair if len(pair) == 2 and pair in IPA_TO_VISEMES else letters[i]
        i += len(key)
        if key in IPA_TO_VISEMES:
            viseme = IPA_TO_VISEMES[key]
        elif unicodedata.category(key[0]).startswith("L"):
            viseme = DEFAULT_VISEME
        else:  # punctuation, digits, symbols, whitespace: a pause
            viseme = "sil"
        if viseme == "sil" and targets and targets[-1].viseme == "sil":
            continue
        targets.append(VisemeTarget(viseme, REDUCED_VOWELS.get(key, 1.0), WEAK_PHONEMES.get(key, 1.0)))
    return tuple(targets)


def _arpabet_targets(phoneme: str) -> tuple[VisemeTarget, ...] | Attach:
    key = phoneme.strip().upper().rstrip("012")
    if not key or key in _ARPABET_SILENCE or key.startswith("+") or not key.isalpha():
        return SILENCE
    if key == "AH" and phoneme.strip().endswith("0"):  # AH0 is the schwa
        return (VisemeTarget("aa", REDUCED_VOWELS["ə"]),)
    visemes = ARPABET_TO_VISEMES.get(key, (DEFAULT_VISEME,))
    return tuple(VisemeTarget(v, REDUCED_VOWELS.get(key, 1.0), WEAK_PHONEMES.get(key, 1.0)) for v in visemes)


def phoneme_targets(phoneme: str, alphabet: PhonemeAlphabet) -> tuple[VisemeTarget, ...] | Attach:
    """Viseme targets that share one phoneme's span, in order (two for a diphthong).

    Returns ``"previous"`` or ``"next"`` for a span made only of marks (``ː``, ``ˈ``): its time
    belongs to that neighbour. Never raises; unknown letters give :data:`DEFAULT_VISEME`.
    """
    if alphabet == "arpabet":
        return _arpabet_targets(phoneme)
    return _ipa_targets(phoneme)
