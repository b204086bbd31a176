"""Reading what real small local models write: the JSON asked for, JSON of another shape, or prose."""

from __future__ import annotations

import json

import pytest

from neura.script import MAX_SCENES, read_answer
from neura.script.answer import title_from_prompt

TITLE = "Why the sky is blue"

PROSE_WITH_MARKDOWN = """Sure! Here's a short script for your video about the sky:

**Why Is the Sky Blue?**

## Scene 1: Sunlight

**Narrator:** Sunlight looks white, but it is a mix of every colour of the rainbow.

[Upbeat music]

## Scene 2: Scattering

When that light reaches the air, the tiny molecules scatter the short blue waves much more than red ones.

## Scene 3: Our eyes

So blue light reaches our eyes from every part of the sky. That is why the sky looks blue!

Let me know if you'd like a longer version!"""


def test_prose_becomes_titled_scenes_with_captions_from_its_headings() -> None:
    reading = read_answer(PROSE_WITH_MARKDOWN, title=TITLE)
    assert reading.prose and reading.problem == "" and reading.script is not None
    script = reading.script
    assert script.title == "Why Is the Sky Blue?"
    assert [scene.caption for scene in script.scenes] == ["Sunlight", "Scattering", "Our eyes"]
    assert script.scenes[0].narration == "Sunlight looks white, but it is a mix of every colour of the rainbow."
    spoken = script.narration
    for noise in ("Sure", "Narrator", "**", "##", "Upbeat music", "Let me know", "Scene"):
        assert noise not in spoken, noise


def test_plain_paragraphs_are_scenes_and_the_title_comes_from_the_prompt() -> None:
    text = "Tides rise and fall twice a day.\n\nThe moon pulls the oceans toward it.\n\nThe sun helps a little too."
    reading = read_answer(text, title=title_from_prompt("explain the tides for kids."))
    assert reading.prose and reading.script is not None
    assert reading.script.title == "Explain the tides for kids"
    assert len(reading.script.scenes) == 3
    assert reading.script.scenes[1].caption == "The moon pulls the oceans toward it"


def test_a_short_first_line_without_a_full_stop_is_the_title() -> None:
    text = "The Water Cycle\nWater evaporates from the sea.\n\nIt falls again as rain."
    reading = read_answer(text, title=TITLE)
    assert reading.script is not None
    assert reading.script.title == "The Water Cycle"  # its own line in the first paragraph
    assert reading.script.narration == "Water evaporates from the sea.\n\nIt falls again as rain."


def test_a_think_block_and_a_bulleted_answer_are_read() -> None:
    text = "<think>They want bullets? No, narration.</think>\n- Volcanoes form where plates meet.\n- Magma rises."
    reading = read_answer(text, title=TITLE)
    assert reading.script is not None and reading.script.narration == "Volcanoes form where plates meet. Magma rises."


@pytest.mark.parametrize(
    "answer",
    [
        {"title": "Sky", "scenes": [{"text": "Blue light scatters."}, {"text": "Red light passes."}]},
        {"title": "Sky", "scenes": ["Blue light scatters.", "Red light passes."]},
        {"title": "Sky", "sections": [{"content": "Blue light scatters.", "heading": "Blue"}, "Red light passes."]},
        {"title": "Sky", "script": "Blue light scatters.\n\nRed light passes."},
        {"title": "Sky", "scenes": [{"narration": "Blue light scatters."}, {"narration": "Red light passes."}]},
    ],
    ids=["text-key", "strings", "sections", "one-string", "no-captions"],
)
def test_json_of_another_shape_is_read_for_its_narration(answer: dict[str, object]) -> None:
    reading = read_answer(json.dumps(answer), title=TITLE)
    assert not reading.prose and reading.script is not None, reading.problem
    assert reading.script.title == "Sky"
    assert [s.narration for s in reading.script.scenes] == ["Blue light scatters.", "Red light passes."]
    assert all(scene.caption for scene in reading.script.scenes)


def test_json_without_a_title_takes_the_prompts() -> None:
    reading = read_answer('{"scenes": [{"narration": "Blue light scatters.", "caption": "Blue"}]}', title=TITLE)
    assert reading.script is not None and reading.script.title == TITLE


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the reply was empty"),
        ("<think>only thinking</think>", "the reply was empty"),
        ('{"title": "Sky", "scenes": [{"narration": "Blue light', "the JSON is invalid"),  # cut off
        ('```json\n{"title": "Sky", scenes: []}\n```', "the JSON is invalid"),
        ('{"title": "Sky", "scenes": []}', "scenes: List should have at least 1 item"),
        ('{"title": "Sky", "scenes": [{"caption": "Blue"}]}', "scenes.0.narration: Field required"),
        ("Sure! Here is the script you asked for:", "the reply holds no narration"),
        ("(music)\n\n[Cut to the sky]", "the reply holds no narration"),
    ],
)
def test_nothing_to_speak_is_a_problem_named_for_the_revision(text: str, problem: str) -> None:
    reading = read_answer(text, title=TITLE)
    assert reading.script is None
    assert problem in reading.problem


def test_more_paragraphs_than_scenes_allowed_are_joined_in_order() -> None:
    paragraphs = [f"Paragraph number {i} is here." for i in range(MAX_SCENES * 2 + 1)]
    reading = read_answer("\n\n".join(paragraphs), title=TITLE)
    assert reading.script is not None
    assert len(reading.script.scenes) <= MAX_SCENES
    assert reading.script.narration.replace("\n\n", " ") == " ".join(paragraphs)


def test_prose_over_the_character_limit_is_a_problem() -> None:
    reading = read_answer("\n\n".join(["word " * 1000] * 5), title=TITLE)
    assert reading.script is None and "the limit is 20,000" in reading.problem
