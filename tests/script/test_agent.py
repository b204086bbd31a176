"""The script agent: a duration-sized script from a prompt, with one revision at most."""

from __future__ import annotations

import json
import math

import pytest

from neura.errors import LLMOutputError, LLMUnavailableError, ScriptError
from neura.llm import FallbackLLM, RetryPolicy
from neura.llm.openai_compat import OpenAICompatLLM
from neura.script import ScriptAgent, ScriptPlan, extract_json_object, prompt_schema
from neura.script.agent import PROSE_WARNING, SCRIPT_SCHEMA
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.scripted_llm import ScriptedLLM

SENTENCE = ["Light", "from", "the", "sun", "scatters", "off", "tiny", "molecules", "of", "air"]


def script_json(words: int, scenes: int = 5) -> str:
    """A model's answer: ``words`` words of narration spread over ``scenes`` scenes."""
    sizes = [words // scenes + (1 if i < words % scenes else 0) for i in range(scenes)]
    return json.dumps(
        {
            "title": "Why the sky is blue",
            "scenes": [
                {"narration": " ".join(SENTENCE[j % 10] for j in range(n)) + ".", "caption": f"Part {i + 1}"}
                for i, n in enumerate(sizes)
            ],
        }
    )


@pytest.mark.parametrize(
    ("duration_s", "words_per_second", "scenes", "target_words"),
    [
        (5, 2.5, 1, 12),  # one scene, no breaks: 12.5 words
        (60, 2.5, 5, 144),  # five scenes, four breaks of 0.6 s: 57.6 s of speech
        (90, 2.0, 8, 172),
        (600, 2.5, 40, 1442),  # scenes are capped at 40
    ],
)
def test_the_plan_sizes_words_and_scenes_to_the_duration(
    duration_s: float, words_per_second: float, scenes: int, target_words: int
) -> None:
    plan = ScriptPlan.for_duration(duration_s, words_per_second)
    assert (plan.scenes, plan.target_words) == (scenes, target_words)
    assert (plan.min_words, plan.max_words) == (math.floor(target_words * 0.8), math.ceil(target_words * 1.2))


async def test_a_valid_first_answer_is_used_as_is() -> None:
    llm = ScriptedLLM([script_json(144)])
    result = await ScriptAgent(llm, words_per_second=2.5).write("Why is the sky blue?", 60)

    assert result.attempts == 1 and result.warnings == ()
    assert result.script.word_count == 144 and len(result.script.scenes) == 5
    assert (result.llm_name, result.model) == ("scripted", "scripted-1")
    (call,) = llm.calls
    assert call.json_mode and call.json_schema == SCRIPT_SCHEMA  # structured output, where the server can
    assert SCRIPT_SCHEMA.name == "script" and SCRIPT_SCHEMA.schema == prompt_schema()
    system, user = call.messages
    assert "144 words of narration in total (at least 115, at most 173)" in system.content
    assert "5 scenes" in system.content and '"narration"' in system.content  # the schema is in the prompt
    assert "Why is the sky blue?" in user.content


async def test_a_short_answer_is_revised_once_and_the_request_names_the_word_counts() -> None:
    first, second = script_json(50), script_json(140)
    llm = ScriptedLLM([first, second])
    result = await ScriptAgent(llm, words_per_second=2.5).write("Why is the sky blue?", 60)

    assert result.attempts == 2 and result.warnings == ()
    assert result.script.word_count == 140
    revision = llm.calls[1].messages
    assert revision[-2].role == "assistant" and revision[-2].content == first
    assert revision[-1].role == "user"
    assert "You wrote 50 words; rewrite to 144 words (between 115 and 173)" in revision[-1].content


async def test_still_off_in_length_after_the_revision_is_accepted_with_a_warning() -> None:
    llm = ScriptedLLM([script_json(300), script_json(250)])
    result = await ScriptAgent(llm, words_per_second=2.5).write("Why is the sky blue?", 60)
    assert result.attempts == 2 and result.script.word_count == 250
    assert result.warnings == ("the script is off in length after a revision: 250 words instead of 144",)


async def test_nothing_usable_twice_is_an_llm_output_error_that_suggests_giving_the_script() -> None:
    llm = ScriptedLLM(["Sure! Here is your script: {title: oops", "I cannot do that."])
    with pytest.raises(LLMOutputError) as caught:
        await ScriptAgent(llm).write("Why is the sky blue?", 60)
    error = caught.value
    assert "no usable script in two attempts" in error.message
    assert "the JSON is invalid" in error.message and "4 words of prose, too few to be the narration" in error.message
    assert error.hint == "try again, choose another model, or give the script yourself"
    assert error.fields == {"script": None}  # the CLI shows --script for it; the API names the field
    assert "--" not in str(error)
    assert len(llm.calls) == 2


async def test_an_answer_in_prose_becomes_the_narration_with_a_warning() -> None:
    paragraphs = [" ".join(SENTENCE[j % 10] for j in range(29)) + "." for _ in range(5)]
    prose = "Sure! Here is a script about the sky:\n\n" + "\n\n".join(paragraphs) + "\n\nLet me know if you like it!"
    llm = ScriptedLLM([prose])
    result = await ScriptAgent(llm, words_per_second=2.5).write("why is the sky blue?", 60)

    assert result.attempts == 1 and result.warnings == (PROSE_WARNING,)
    assert result.script.title == "Why is the sky blue"  # none in the answer: the prompt's
    assert len(result.script.scenes) == 5 and result.script.word_count == 145
    assert "Sure" not in result.script.narration and "Let me know" not in result.script.narration


async def test_prose_of_the_wrong_length_is_revised_like_json() -> None:
    long_prose = "\n\n".join(" ".join(SENTENCE) + "." for _ in range(30))  # 300 words
    right = "\n\n".join(" ".join(SENTENCE[j % 10] for j in range(36)) + "." for _ in range(4))  # 144 words
    llm = ScriptedLLM([long_prose, right])
    result = await ScriptAgent(llm, words_per_second=2.5).write("Why is the sky blue?", 60)
    assert result.attempts == 2 and result.script.word_count == 144
    assert result.warnings == (PROSE_WARNING,)
    assert "You wrote 300 words; rewrite to 144 words" in llm.calls[1].messages[-1].content


async def test_a_refusal_then_a_script_uses_the_script() -> None:
    llm = ScriptedLLM(["I'm sorry, but I can't help with that.", script_json(144)])
    result = await ScriptAgent(llm, words_per_second=2.5).write("Why is the sky blue?", 60)
    assert result.attempts == 2 and result.warnings == () and result.script.word_count == 144
    assert "too few to be the narration" in llm.calls[1].messages[-1].content


async def test_a_schema_violation_is_named_in_the_revision_request() -> None:
    broken = json.dumps({"title": "Sky", "scenes": [{"caption": "Blue light"}]})  # no narration anywhere
    llm = ScriptedLLM([broken, script_json(144)])
    result = await ScriptAgent(llm, words_per_second=2.5).write("Why is the sky blue?", 60)
    assert result.attempts == 2
    feedback = llm.calls[1].messages[-1].content
    assert feedback.startswith("Your reply could not be used: scenes.0.narration: Field required.")
    assert "144 words of narration in 5 scenes" in feedback


@pytest.mark.parametrize(
    "wrapping",
    [
        "```json\n{}\n```",
        "Here is the script you asked for:\n\n```\n{}\n```\nEnjoy!",
        "<think>Count the words first.</think>\n{}",
        "Sure. {} Let me know if you want changes.",
    ],
    ids=["fenced", "fenced with chatter", "think block", "chatter around"],
)
async def test_answers_wrapped_in_fences_or_chatter_are_accepted(wrapping: str) -> None:
    llm = ScriptedLLM([wrapping.format(script_json(144))])
    result = await ScriptAgent(llm, words_per_second=2.5).write("Why is the sky blue?", 60)
    assert result.attempts == 1 and result.script.title == "Why the sky is blue"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('noise {not json} then {"a": {"b": [1, 2]}} tail', {"a": {"b": [1, 2]}}),
        ('```json\n{"a": "}"}\n```', {"a": "}"}),
    ],
)
def test_extract_json_object(text: str, expected: dict[str, object]) -> None:
    assert extract_json_object(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "the reply was empty"), ("[1, 2]", "holds no JSON object"), ('{"a": 1,}', "the JSON is invalid")],
)
def test_extract_json_object_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        extract_json_object(text)


@pytest.mark.parametrize(
    ("prompt", "duration_s", "message"),
    [
        ("", 60, "the prompt is empty"),
        ("   \n", 60, "the prompt is empty"),
        ("x" * 4001, 60, "the prompt is too long"),
        ("Sky", 4.9, "between 5 and 600 seconds, not 4.9"),
        ("Sky", 600.5, "between 5 and 600 seconds"),
        ("Sky", float("nan"), "between 5 and 600 seconds"),
    ],
)
async def test_bad_requests_are_script_errors_before_any_llm_call(prompt: str, duration_s: float, message: str) -> None:
    llm = ScriptedLLM([script_json(144)])
    with pytest.raises(ScriptError, match=message):
        await ScriptAgent(llm).write(prompt, duration_s)
    assert llm.calls == []


async def test_llm_errors_reach_the_caller_unchanged() -> None:
    llm = ScriptedLLM([LLMUnavailableError("LM Studio is not running")])
    with pytest.raises(LLMUnavailableError, match="not running"):
        await ScriptAgent(llm).write("Sky", 60)


async def test_progress_goes_from_writing_to_done() -> None:
    seen: list[tuple[str, float]] = []
    llm = ScriptedLLM([script_json(50), script_json(144)])
    await ScriptAgent(llm, words_per_second=2.5, on_progress=lambda stage, f: seen.append((stage, f))).write("Sky", 60)

    assert seen[0] == ("writing", 0.0) and seen[-1] == ("done", 1.0)
    assert next(stage for stage, _ in seen if stage != "writing") == "revising"
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)


async def test_end_to_end_through_a_fallback_chain_to_an_openai_compatible_server(
    openai_server: FakeOpenAIServer, closed_port_url: str
) -> None:
    openai_server.behaviour.replies = ["<think>plan</think>" + script_json(60, scenes=2)]
    openai_server.behaviour.tokens_per_s = 0  # all at once
    lmstudio = OpenAICompatLLM(base_url=openai_server.base_url, model=openai_server.model)
    dead = OpenAICompatLLM(base_url=closed_port_url, model="m", retry=RetryPolicy(max_retries=0))
    chain = FallbackLLM([dead, lmstudio])

    result = await ScriptAgent(chain, words_per_second=2.5).write("Why is the sky blue?", 25)

    assert result.script.word_count == 60 and result.attempts == 1
    assert (result.llm_name, result.model) == ("lmstudio", "qwen/qwen3-vl-4b")  # the provider that answered
    assert openai_server.chat_requests[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "script", "schema": prompt_schema()},
    }
    await chain.aclose()
