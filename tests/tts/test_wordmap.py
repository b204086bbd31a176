"""Mapping an engine's phone groups to spoken words when espeak-ng joins words ("of the")."""

from __future__ import annotations

import itertools

from neura.tts.wordmap import Phone, map_words

RATE_HZ = 100  # one sample = 10 ms, to keep the numbers readable


def _phones(groups: list[str]) -> list[Phone]:
    phones, position = [], 0
    for group, symbols in enumerate(groups):
        for symbol in symbols.split():
            phones.append(Phone(symbol, position, position + 10, group))
            position += 10
    return phones


def test_groups_matching_words_map_directly() -> None:
    spans, quality = map_words(["hello", "world"], _phones(["h ə l oʊ", "w ɜː l d"]), RATE_HZ)
    assert quality == 1.0
    assert [(s.word, s.start_s, s.end_s) for s in spans] == [("hello", 0.0, 0.4), ("world", 0.4, 0.8)]


def test_joined_words_are_split_by_their_phonemes() -> None:
    # espeak-ng says "best of the world" as three groups: bˈɛst | ʌvðə | wˈɜːld
    phones = _phones(["b ɛ s t", "ʌ v ð ə", "w ɜː l d"])
    spans, quality = map_words(["best", "of", "the", "world"], phones, RATE_HZ)
    assert quality > 0.8
    assert [(s.word, s.start_s) for s in spans] == [("best", 0.0), ("of", 0.4), ("the", 0.6), ("world", 0.8)]


def test_every_word_gets_a_span_even_when_the_phones_disagree() -> None:
    spans, quality = map_words(["completely", "different", "words"], _phones(["a b", "c"]), RATE_HZ)
    assert [s.word for s in spans] == ["completely", "different", "words"]
    assert all(b.start_s >= a.end_s for a, b in itertools.pairwise(spans))
    assert quality < 0.5
