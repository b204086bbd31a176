"""Clause chunking of streamed LLM text: the first clause comes early, nothing is cut inside a number
or an abbreviation, and the pieces join back to the text."""

from __future__ import annotations

from neura.live.chunker import ClauseSplitter
from tests.fakes._server import split_tokens


def chunk(text: str) -> list[tuple[int, str]]:
    """(index of the token after which each piece came out, piece); -1: at the end."""
    splitter = ClauseSplitter()
    out = [(i, piece) for i, token in enumerate(split_tokens(text)) for piece in splitter.feed(token)]
    return out + [(-1, piece) for piece in splitter.flush()]


def first_piece(text: str) -> str:
    return chunk(text)[0][1]


def test_an_exclamation_is_spoken_as_soon_as_it_arrives() -> None:
    pieces = chunk("Great question! The ocean covers most of our planet, and most of it is unexplored.")
    assert pieces[0] == (1, "Great question!")
    assert [p for _, p in pieces] == [
        "Great question!",
        "The ocean covers most of our planet,",
        "and most of it is unexplored.",
    ]


def test_the_first_clause_is_cut_after_a_few_words_even_without_punctuation() -> None:
    pieces = chunk("Honestly okay fine alright then sure thing whatever works for everyone at all until the end")
    first_token, first = pieces[0]
    assert first == "Honestly okay fine alright then sure" and first_token == 6  # six words: no phrase opener
    assert (
        " ".join(p for _, p in pieces)
        == "Honestly okay fine alright then sure thing whatever works for everyone at all until the end"
    )


def test_a_one_word_interjection_before_a_comma_is_the_first_piece_as_soon_as_it_arrives() -> None:
    pieces = chunk("Sure, here is a quick overview. The deep ocean is the largest habitat on Earth.")
    assert pieces[:2] == [(0, "Sure,"), (6, "here is a quick overview.")]


def test_a_comma_after_a_digit_waits_for_the_next_token_a_comma_after_a_letter_does_not() -> None:
    splitter = ClauseSplitter()
    assert splitter.feed("Well") == [] and splitter.feed(",") == ["Well,"]  # a tokenizer's separate comma
    splitter = ClauseSplitter()
    assert splitter.feed("About 1") == [] and splitter.feed(",") == []  # "1,000" may be coming
    assert splitter.feed("000") == [] and splitter.feed(" fish swim here, and") == ["About 1,000 fish swim here,"]


def test_a_long_opener_is_cut_before_its_first_phrase_once_three_words_have_come() -> None:
    pieces = chunk("The main difference between these two approaches is cost. The cheaper one needs less care.")
    # cut when " these" shows that "between" is a whole word: before the opener, not after it
    assert pieces[0] == (4, "The main difference")
    assert pieces[1] == (9, "between these two approaches is cost.")
    assert first_piece("In most cases the simplest option is also the cheapest.") == "In most cases"
    assert first_piece("Well here is how it works, step by step.") == "Well here is"


def test_the_first_piece_never_ends_between_two_phrase_openers_or_before_a_binding_word() -> None:
    assert first_piece("We went out because of the rain and the cold.") == "We went out"
    assert first_piece("There are a lot of ways to do this in practice.") == "There are a lot of ways"
    assert first_piece("Honestly I would like to know more about it.") == "Honestly I would like to know"
    assert first_piece("It is in the middle of the sea, far away.") == "It is in the middle"  # not "of | the"


def test_an_opener_is_not_taken_for_one_before_the_next_token_shows_the_whole_word() -> None:
    splitter = ClauseSplitter()
    assert splitter.feed("The main difference") == [] and splitter.feed(" the") == []  # "the" or "these"?
    assert splitter.feed("se") == []
    assert splitter.feed(" two") == ["The main difference"]


def test_only_the_first_piece_is_cut_early() -> None:
    pieces = [p for _, p in chunk("Yes. The main difference between these two approaches is cost, and time.")]
    assert pieces == ["Yes.", "The main difference between these two approaches is cost,", "and time."]


def test_numbers_and_abbreviations_are_never_split() -> None:
    pieces = [p for _, p in chunk("Dr. Smith counted 3.5 million fish, give or take 1,000, in the bay. Amazing!")]
    assert pieces == ["Dr. Smith counted 3.5 million fish,", "give or take 1,000, in the bay.", "Amazing!"]


def test_later_clauses_wait_for_enough_words() -> None:
    pieces = [p for _, p in chunk("Yes. I see, you know, it is fine, really, and then some more words follow here.")]
    assert pieces[0] == "Yes."
    assert all(len(p.split()) >= 5 for p in pieces[1:-1])


def test_a_full_stop_waits_for_the_next_token_to_tell_a_sentence_from_a_number() -> None:
    assert chunk("It is 3. Then 3.5 follows.")[0] == (3, "It is 3.")  # at " Then", not at " 3."
    assert [p for _, p in chunk("Wait?! Really?")] == ["Wait?!", "Really?"]
