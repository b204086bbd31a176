"""The script model: the user's own text (--script script.txt), limits, and the schema the prompt shows."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from neura.errors import ScriptError
from neura.script import MAX_SCENES, MAX_TOTAL_CHARS, Scene, Script, count_words, prompt_schema


@pytest.mark.parametrize(
    ("text", "title", "narrations"),
    [
        ("Hello world.", "Hello world", ["Hello world."]),
        ("# My talk\n\nFirst part.\n\nSecond part.", "My talk", ["First part.", "Second part."]),
        ("# My talk\nRight below the title.", "My talk", ["Right below the title."]),
        (
            "One line\nwrapped here.\n\n\n\nNext   scene.",
            "One line wrapped here",
            ["One line wrapped here.", "Next scene."],
        ),
        ("\ufeffWindows\r\nline ends.\r\n\r\nSecond.", "Windows line ends", ["Windows line ends.", "Second."]),
        (
            "First.\n   \t\nSecond after a blank line of spaces.",
            "First",
            ["First.", "Second after a blank line of spaces."],
        ),
        ("#hashtag is not a title\n\nText.", "#hashtag is not a title", ["#hashtag is not a title", "Text."]),
    ],
)
def test_from_text_paragraphs_become_scenes(text: str, title: str, narrations: list[str]) -> None:
    script = Script.from_text(text)
    assert script.title == title
    assert [scene.narration for scene in script.scenes] == narrations


@pytest.mark.parametrize(
    ("narration", "caption"),
    [
        ("Plants eat light. Then they grow.", "Plants eat light"),
        ("Why is the sky blue? Sunlight scatters.", "Why is the sky blue?"),
        (
            "Photosynthesis turns sunlight, water and carbon dioxide into sugar and oxygen inside the leaves.",
            "Photosynthesis turns sunlight, water and carbon dioxide…",
        ),
        ("No full stop at all", "No full stop at all"),
    ],
)
def test_captions_are_the_first_sentence_shortened(narration: str, caption: str) -> None:
    assert Script.from_text(narration).scenes[0].caption == caption


def test_a_given_title_wins() -> None:
    assert Script.from_text("# Heading\n\nBody.", title="Chosen").title == "Chosen"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the script is empty"),
        ("  \n\n \t\n", "the script is empty"),
        ("# Only a title", "a title but no narration"),
        ("x" * (MAX_TOTAL_CHARS + 1), "too long: 20,001 characters of narration; the limit is 20,000"),
        ("\n\n".join(["Scene."] * (MAX_SCENES + 1)), "41 paragraphs; the limit is 40 scenes"),
    ],
    ids=["empty", "blank", "title only", "too long", "too many scenes"],
)
def test_unusable_text_is_a_script_error_that_says_why(text: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message) as caught:
        Script.from_text(text)
    assert caught.value.hint


@pytest.mark.parametrize(
    ("text", "words"),
    [("Hello world.", 2), ("It's a well-known fact — really!", 5), ("3 cats … 4 dogs", 4), ("", 0)],
)
def test_count_words(text: str, words: int) -> None:
    assert count_words(text) == words


def test_word_and_char_counts_add_up_over_scenes() -> None:
    script = Script.from_text("One two three.\n\nFour five.")
    assert script.word_count == 5
    assert script.char_count == len("One two three.") + len("Four five.")
    assert script.narration == "One two three.\n\nFour five."


def test_model_answers_are_validated_and_long_captions_shortened() -> None:
    script = Script.model_validate(
        {"title": "  Sky  ", "scenes": [{"narration": "  The sky\n is blue. ", "caption": "word " * 30}]}
    )
    assert script.title == "Sky"
    assert script.scenes[0].narration == "The sky is blue."
    assert len(script.scenes[0].caption) <= 60 and script.scenes[0].caption.endswith("…")


def test_an_empty_title_from_the_model_becomes_the_first_caption() -> None:
    script = Script.model_validate({"title": "", "scenes": [{"narration": "Hi.", "caption": "Greeting"}]})
    assert script.title == "Greeting"


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "t", "scenes": []},
        {"title": "t"},
        {"title": "t", "scenes": [{"narration": "", "caption": "c"}]},
        {"title": "t", "scenes": [{"narration": "n"}]},
        {"title": "t", "scenes": [{"narration": "x" * (MAX_TOTAL_CHARS + 1), "caption": "c"}]},
    ],
    ids=["no scenes", "scenes missing", "empty narration", "caption missing", "too long"],
)
def test_invalid_model_answers_fail_validation(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Script.model_validate(payload)


def test_the_prompt_schema_describes_title_scenes_narration_and_caption() -> None:
    schema = prompt_schema()
    assert schema["required"] == ["title", "scenes"]
    scene = schema["$defs"]["Scene"]
    assert set(scene["properties"]) == {"narration", "caption"}
    assert "8 words" in scene["properties"]["caption"]["description"]
    assert "title" not in scene["properties"]["narration"]  # pydantic's titles are noise in a prompt
    assert Scene.model_json_schema()["required"] == ["narration", "caption"]


def test_to_text_is_the_file_format_from_text_reads() -> None:
    script = Script(
        title="Why the sky is blue",
        scenes=[
            Scene(narration="Sunlight  holds every colour.\nBlue scatters most.", caption="Light"),
            Scene(narration="# Not a title: it is spoken.", caption="Air"),
        ],
    )
    text = script.to_text()
    assert text == (
        "# Why the sky is blue\n\nSunlight holds every colour. Blue scatters most.\n\n# Not a title: it is spoken.\n"
    )
    again = Script.from_text(text)
    assert again.title == script.title
    assert [s.narration for s in again.scenes] == [s.narration for s in script.scenes]
