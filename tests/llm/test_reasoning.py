"""``<think>`` blocks never reach the consumer, however the stream splits the tags."""

from __future__ import annotations

import pytest

from neura.llm.reasoning import ThinkFilter, strip_think


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Hello there.", "Hello there."),
        ("<think>\nThe user greets me.\n</think>\n\nHello there.", "Hello there."),
        ("<think></think>Hi", "Hi"),
        ("Before <think>secret</think> after", "Before after"),
        ("<think>a</think>One <think>b</think>two", "One two"),
        ("The user wants a greeting.\n</think>\n\nHello!", "The user wants a greeting.\nHello!"),
        ("<think>never closed, all reasoning", ""),
        ("a < b and 3 > 2, <thinking> is not a tag", "a < b and 3 > 2, <thinking> is not a tag"),
        ("ends with a partial tag <thi", "ends with a partial tag <thi"),
    ],
)
def test_strip_think(text: str, answer: str) -> None:
    assert strip_think(text) == answer


@pytest.mark.parametrize("text", ["<think>\nplan the answer\n</think>\n\nHello there, friend.", "x<think>y</think>z"])
def test_every_split_of_the_stream_gives_the_same_answer(text: str) -> None:
    for cut in range(len(text) + 1):
        f = ThinkFilter()
        assert f.feed(text[:cut]) + f.feed(text[cut:]) + f.flush() == strip_think(text), cut


def test_text_is_released_as_soon_as_it_cannot_be_a_tag() -> None:
    f = ThinkFilter()
    released = [f.feed(c) for c in "<think>hm</think>Hi <b>"]
    assert released[-6:] == ["H", "i", " ", "", "<b", ">"]  # "<" waits for one more character
    assert "".join(released) + f.flush() == "Hi <b>"
