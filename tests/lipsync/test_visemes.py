"""The viseme set and the phoneme tables: what each phoneme looks like on the mouth."""

from __future__ import annotations

import random

import pytest

from neura.lipsync import VISEMES, phoneme_targets, viseme_segments
from neura.lipsync.visemes import DEFAULT_VISEME, VisemeName, VisemeTarget
from neura.media import PhonemeAlphabet, PhonemeSpan


def names(phoneme: str, alphabet: PhonemeAlphabet = "ipa") -> list[str] | str:
    targets = phoneme_targets(phoneme, alphabet)
    return targets if isinstance(targets, str) else [t.viseme for t in targets]


def test_the_fifteen_visemes_with_poses_in_range() -> None:
    assert list(VISEMES) == ["sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou"]
    for viseme in VISEMES.values():
        assert all(0.0 <= v <= 1.0 for v in viseme.pose.as_array())
        assert viseme.dominance > 0 and viseme.anticipation_s > 0 and viseme.carryover_s > 0


def test_closures_dominate_and_vowels_set_the_jaw() -> None:
    vowels: list[VisemeName] = ["aa", "E", "ih", "oh", "ou"]
    strongest_vowel = max(VISEMES[v].dominance for v in vowels)
    assert VISEMES["PP"].dominance > 4 * strongest_vowel
    assert VISEMES["FF"].dominance > 3 * strongest_vowel
    assert VISEMES["PP"].pose.close == 1.0 and VISEMES["PP"].pose.open == 0.0
    opening = [VISEMES[v].pose.open for v in ("aa", "E", "ih", "ou")]
    assert opening == sorted(opening, reverse=True) and len(set(opening)) == 4
    assert VISEMES["ou"].pose.round == 1.0 and VISEMES["ih"].pose.spread > VISEMES["aa"].pose.spread
    for tongue in ("DD", "kk", "nn"):  # borrow the vowels' mouth
        assert VISEMES[tongue].dominance < strongest_vowel


@pytest.mark.parametrize(
    ("phoneme", "expected"),
    [
        ("p", ["PP"]), ("b", ["PP"]), ("m", ["PP"]), ("f", ["FF"]), ("v", ["FF"]),
        ("θ", ["TH"]), ("ð", ["TH"]), ("t", ["DD"]), ("d", ["DD"]), ("ɾ", ["DD"]),
        ("k", ["kk"]), ("ɡ", ["kk"]), ("ŋ", ["kk"]), ("ʔ", ["kk"]),
        ("tʃ", ["CH"]), ("dʒ", ["CH"]), ("ʃ", ["CH"]), ("ʒ", ["CH"]), ("s", ["SS"]), ("z", ["SS"]),
        ("n", ["nn"]), ("l", ["nn"]), ("n̩", ["nn"]), ("ɹ", ["RR"]), ("ɚ", ["RR"]), ("ɝ", ["RR"]),
        ("ɑː", ["aa"]), ("ˈæ", ["aa"]), ("ʌ", ["aa"]), ("ɛ", ["E"]), ("ɪ", ["ih"]), ("iː", ["ih"]),
        ("ᵻ", ["ih"]), ("ɔː", ["oh"]), ("uː", ["ou"]), ("ʊ", ["ou"]), ("w", ["ou"]), ("j", ["ih"]),
        # diphthongs and r-coloured vowels share their span between two targets
        ("aɪ", ["aa", "ih"]), ("eɪ", ["E", "ih"]), ("oʊ", ["oh", "ou"]), ("ˈaʊ", ["aa", "ou"]),
        ("ɔɪ", ["oh", "ih"]), ("ɑːɹ", ["aa", "RR"]),
        # silence: spaces, punctuation, Piper's ends and pads
        (" ", ["sil"]), (",", ["sil"]), (".", ["sil"]), ("?", ["sil"]), ("^", ["sil"]), ("$", ["sil"]),
        ("_", ["sil"]), ("", ["sil"]), ("…", ["sil"]),
    ],
)  # fmt: skip
def test_ipa_table(phoneme: str, expected: list[str]) -> None:
    assert names(phoneme) == expected


@pytest.mark.parametrize(
    ("phoneme", "attach"), [("ˈ", "next"), ("ˌ", "next"), ("ː", "previous"), ("\u0329", "previous")]
)
def test_marks_give_their_time_to_a_neighbour(phoneme: str, attach: str) -> None:
    assert names(phoneme) == attach


@pytest.mark.parametrize(
    ("phoneme", "expected"),
    [
        ("AA1", ["aa"]), ("AE0", ["aa"]), ("AH", ["aa"]), ("AO", ["oh"]), ("AW", ["aa", "ou"]),
        ("AY2", ["aa", "ih"]), ("EH", ["E"]), ("ER1", ["RR"]), ("EY", ["E", "ih"]), ("IH", ["ih"]),
        ("IY", ["ih"]), ("OW", ["oh", "ou"]), ("OY", ["oh", "ih"]), ("UH", ["ou"]), ("UW1", ["ou"]),
        ("B", ["PP"]), ("P", ["PP"]), ("M", ["PP"]), ("F", ["FF"]), ("V", ["FF"]), ("TH", ["TH"]),
        ("DH", ["TH"]), ("T", ["DD"]), ("D", ["DD"]), ("K", ["kk"]), ("G", ["kk"]), ("NG", ["kk"]),
        ("CH", ["CH"]), ("JH", ["CH"]), ("SH", ["CH"]), ("ZH", ["CH"]), ("S", ["SS"]), ("Z", ["SS"]),
        ("N", ["nn"]), ("L", ["nn"]), ("R", ["RR"]), ("W", ["ou"]), ("Y", ["ih"]), ("HH", ["kk"]),
        ("SIL", ["sil"]), ("sil", ["sil"]), ("+NSN+", ["sil"]), ("+SPN+", ["sil"]),
        ("+BREATH+", ["sil"]), ("<s>", ["sil"]), ("</s>", ["sil"]), ("", ["sil"]),
        ("XYZ", [DEFAULT_VISEME]),
    ],
)  # fmt: skip
def test_arpabet_table(phoneme: str, expected: list[str]) -> None:
    assert names(phoneme, "arpabet") == expected


def only_target(phoneme: str, alphabet: PhonemeAlphabet) -> VisemeTarget:
    targets = phoneme_targets(phoneme, alphabet)
    assert not isinstance(targets, str) and len(targets) == 1
    return targets[0]


def test_reduced_vowels_open_less_and_h_barely_pulls() -> None:
    schwa, full = only_target("AH0", "arpabet"), only_target("AH1", "arpabet")
    assert schwa.amplitude < full.amplitude == 1.0
    assert only_target("ə", "ipa").amplitude < 1.0
    assert only_target("h", "ipa").weight < 0.2


def test_unknown_symbols_never_crash() -> None:
    assert names("Ж") == [DEFAULT_VISEME]  # an unknown letter
    assert names("★") == ["sil"] and names("42") == ["sil"]  # not a letter: a pause
    rng = random.Random(7)
    alphabets: tuple[PhonemeAlphabet, ...] = ("ipa", "arpabet")
    for _ in range(2000):
        text = "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(0, 5)))
        for alphabet in alphabets:
            result = phoneme_targets(text, alphabet)
            assert isinstance(result, str) or all(t.viseme in VISEMES for t in result)
            assert not isinstance(result, str) or result in ("previous", "next")


def test_segments_fold_marks_split_diphthongs_and_fill_gaps() -> None:
    spans = [
        PhonemeSpan("b", 0.10, 0.15),
        PhonemeSpan("ˈ", 0.15, 0.20),  # stress: belongs to the vowel after it
        PhonemeSpan("aɪ", 0.20, 0.40),  # diphthong: two halves
        PhonemeSpan("ː", 0.40, 0.45),  # length: extends the vowel before it
        PhonemeSpan("t", 0.60, 0.65),  # a 150 ms gap before it: a full pause
        PhonemeSpan(" ", 0.65, 0.68),  # a word boundary: a weak pause
        PhonemeSpan("u", 0.68, 0.80),
    ]
    got = [(s.viseme, round(s.start_s, 3), round(s.end_s, 3)) for s in viseme_segments(spans, "ipa")]
    assert got == [
        ("PP", 0.10, 0.15),
        ("aa", 0.15, 0.30),
        ("ih", 0.30, 0.45),
        ("sil", 0.45, 0.60),
        ("DD", 0.60, 0.65),
        ("sil", 0.65, 0.68),
        ("ou", 0.68, 0.80),
    ]
    weights = {round(s.duration_s, 2): s.weight for s in viseme_segments(spans, "ipa") if s.viseme == "sil"}
    assert weights[0.15] == pytest.approx(1.0) and weights[0.03] < 0.1
