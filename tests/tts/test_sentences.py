"""Sentence, clause and word segmentation."""

from __future__ import annotations

import pytest

from neura.tts import speech_words, split_clauses, split_sentences
from neura.tts.sentences import MAX_CHUNK_CHARS, split_for_speech, split_long, word_tokens


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Hello there. How are you? Fine!", ["Hello there.", "How are you?", "Fine!"]),
        ("Dr. Smith met Mr. Jones at St. Paul's.", ["Dr. Smith met Mr. Jones at St. Paul's."]),
        ("Pi is 3.14. It never ends.", ["Pi is 3.14.", "It never ends."]),
        ("It costs $5.50. Cheap.", ["It costs $5.50.", "Cheap."]),
        ("Fruit, e.g. Apples, i.e. Food.", ["Fruit, e.g. Apples, i.e. Food."]),
        ("We met at 5 p.m. and left.", ["We met at 5 p.m. and left."]),
        ("We met at 5 p.m. Then we left.", ["We met at 5 p.m.", "Then we left."]),
        ("Apples, pears, etc. Then more.", ["Apples, pears, etc.", "Then more."]),
        ("J. R. R. Tolkien wrote it.", ["J. R. R. Tolkien wrote it."]),
        ("Wait... what? Well... No.", ["Wait... what?", "Well...", "No."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ('"Go!" he said. "Now?" she asked.', ['"Go!" he said.', '"Now?" she asked.']),
        ("Really?! Yes.", ["Really?!", "Yes."]),
        ("No punctuation at the end", ["No punctuation at the end"]),
        ("A heading\nThe text below it.", ["A heading", "The text below it."]),
        ("A line that was\nwrapped by hand.", ["A line that was wrapped by hand."]),
        ("First paragraph\n\nsecond paragraph", ["First paragraph", "second paragraph"]),
        ("- one item\n- another item", ["one item", "another item"]),
        ("...  !!  ", []),
        ("", []),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_split_clauses_joins_short_pieces() -> None:
    sentence = "Well, I think we should go now; however, the weather is bad — and that matters: a lot."
    clauses = split_clauses(sentence, min_chars=20)
    assert clauses == ["Well, I think we should go now;", "however, the weather is bad", "and that matters: a lot."]
    assert all(len(c) >= 20 for c in clauses)
    assert split_clauses("Short one.", min_chars=20) == ["Short one."]
    assert split_clauses("We paid 1,000 dollars, then left.", min_chars=5) == ["We paid 1,000 dollars,", "then left."]


def test_long_sentence_without_punctuation_is_cut_at_words() -> None:
    sentence = " ".join(["word"] * 60 + ["and"] + ["another"] * 60)
    parts = split_long(sentence, max_chars=300)
    assert len(parts) == 3
    assert all(len(p) <= 300 for p in parts)
    assert " ".join(parts) == sentence  # cut at spaces only
    assert any(p.startswith("and ") for p in parts)  # prefers a conjunction near the middle


def test_long_sentence_prefers_clause_breaks() -> None:
    sentence = "x" * 10 + " " + " ".join(["alpha"] * 40) + ", " + " ".join(["beta"] * 40)
    first, second = split_long(sentence, max_chars=300)
    assert first.endswith(",") and second.startswith("beta")


def test_a_giant_word_is_cut_anyway() -> None:
    parts = split_long("a" * 700, max_chars=300)
    assert "".join(parts) == "a" * 700
    assert all(len(p) <= 300 for p in parts)


def test_split_for_speech_keeps_pieces_short() -> None:
    text = "Short one. Lorem " + " ".join(["ipsum dolor lorem"] * 60) + ". End."
    pieces = split_for_speech(text)
    assert pieces[0] == "Short one." and pieces[-1] == "End."
    assert max(len(p) for p in pieces) <= MAX_CHUNK_CHARS
    assert len(pieces) == 2 + 4


def test_word_tokens() -> None:
    spoken = 'Hello, "world" twenty-six a.m. U.S. don\'t - ok.'
    assert speech_words(spoken) == ["Hello", "world", "twenty-six", "a.m.", "U.S.", "don't", "ok"]
    for word, start, end in word_tokens(spoken):
        assert spoken[start:end] == word
