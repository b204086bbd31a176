"""Word error rate, with numbers and abbreviations spelled out on both sides."""

from __future__ import annotations

from neura.stt.scoring import edit_distance, normalized_words, word_error_rate


def test_written_forms_of_the_same_words_count_as_equal() -> None:
    assert normalized_words("Send $42 to Dr. Lee!") == ["send", "forty", "two", "dollars", "to", "doctor", "lee"]
    assert word_error_rate(["Please send forty-two dollars."], ["please send $42"]) == 0.0


def test_errors_are_counted_over_all_reference_words() -> None:
    assert edit_distance(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
    assert word_error_rate(["one two three four", "five"], ["one two four", "five six"]) == 2 / 5
    assert word_error_rate([""], ["anything"]) == 0.0
