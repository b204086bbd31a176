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


def test_an_exclamation_is_spoken_as_soon_as_it_arrives() -> None:
    pieces = chunk("Great question! The ocean covers most of our planet, and most of it is unexplored.")
    assert pieces[0] == (1, "Great question!")
    assert [p for _, p in pieces] == [
        "Great question!",
        "The ocean covers most of our planet,",
        "and most of it is unexplored.",
    ]


def test_the_first_clause_is_cut_after_a_few_words_even_without_punctuation() -> None:
    pieces = chunk("Well here is how it works step by step with no punctuation at all until the very end")
    first_token, first = pieces[0]
    assert first == "Well here is how it works" and first_token == 6
    assert (
        " ".join(p for _, p in pieces)
        == "Well here is how it works step by step with no punctuation at all until the very end"
    )


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
