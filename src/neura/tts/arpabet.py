"""espeak-ng's en-US IPA -> ARPAbet (the phone set of pocketsphinx's en-us model), for words that are not
in pocketsphinx's dictionary (names, hyphenated words)."""

from __future__ import annotations

from collections.abc import Iterable

_IPA_TO_ARPABET: dict[str, tuple[str, ...]] = {
    # consonants
    "p": ("P",), "b": ("B",), "t": ("T",), "d": ("D",), "k": ("K",), "ɡ": ("G",), "g": ("G",),
    "f": ("F",), "v": ("V",), "θ": ("TH",), "ð": ("DH",), "s": ("S",), "z": ("Z",), "ʃ": ("SH",),
    "ʒ": ("ZH",), "h": ("HH",), "tʃ": ("CH",), "dʒ": ("JH",), "m": ("M",), "n": ("N",), "ŋ": ("NG",),
    "l": ("L",), "ɫ": ("L",), "ɹ": ("R",), "r": ("R",), "w": ("W",), "ʍ": ("W",), "j": ("Y",),
    "ɾ": ("T",), "ʔ": ("T",), "x": ("K",), "n̩": ("AH", "N"), "l̩": ("AH", "L"),
    # vowels and diphthongs
    "i": ("IY",), "iː": ("IY",), "ɪ": ("IH",), "ᵻ": ("IH",), "e": ("EH",), "eɪ": ("EY",), "ɛ": ("EH",),
    "æ": ("AE",), "a": ("AA",), "aɪ": ("AY",), "aʊ": ("AW",), "ɑ": ("AA",), "ɑː": ("AA",), "ɒ": ("AA",),
    "ɔ": ("AO",), "ɔː": ("AO",), "ɔɪ": ("OY",), "o": ("OW",), "oʊ": ("OW",), "oː": ("AO",), "ʊ": ("UH",),
    "u": ("UW",), "uː": ("UW",), "ʌ": ("AH",), "ə": ("AH",), "ɐ": ("AH",), "ɚ": ("ER",), "ɝ": ("ER",),
    "ɜ": ("ER",), "ɜː": ("ER",), "iə": ("IY", "AH"),
}  # fmt: skip
_LONGEST_KEY = max(len(key) for key in _IPA_TO_ARPABET)
_IGNORED = set("ˈˌˑʲ-'. ")


def ipa_to_arpabet(phonemes: Iterable[str]) -> list[str]:
    """``["h", "ə", "l", "ˈoʊ"]`` -> ``["HH", "AH", "L", "OW"]``; symbols it does not know are skipped."""
    ipa = "".join(ch for ch in "".join(phonemes) if ch not in _IGNORED)
    phones: list[str] = []
    index = 0
    while index < len(ipa):
        for size in range(min(_LONGEST_KEY, len(ipa) - index), 0, -1):
            mapped = _IPA_TO_ARPABET.get(ipa[index : index + size])
            if mapped:
                phones.extend(mapped)
                index += size
                break
        else:
            index += 1  # unknown symbol (a length mark on its own, a diacritic)
    return phones
