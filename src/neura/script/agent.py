"""Prompt + duration -> a validated :class:`Script` sized to be spoken in that time.

The agent asks the language model for JSON matching the script schema with a word budget (as
structured output where the server supports it: :class:`~neura.llm.JsonSchema`), reads the answer
(:mod:`neura.script.answer`: the JSON asked for, JSON of another shape, or prose used as the narration),
checks its length, and asks for one revision naming the specific problem. A second unusable answer
(nothing to speak) is an :class:`LLMOutputError`; a usable one that is still off in length is accepted
with a warning (the video is then a little longer or shorter than asked).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from neura.errors import LLMOutputError, ScriptError
from neura.limits import DURATION_MAX_S, DURATION_MIN_S, PROMPT_MAX_CHARS
from neura.llm.base import NO_LLM_FIELDS, ChatMessage, JsonSchema, LLMProvider, closing_stream
from neura.script.answer import read_answer, title_from_prompt
from neura.script.schema import MAX_SCENES, Script, prompt_schema

MIN_DURATION_S = DURATION_MIN_S
MAX_DURATION_S = DURATION_MAX_S
MAX_PROMPT_CHARS = PROMPT_MAX_CHARS
SCENE_BREAK_S = 0.6  # the pause between two scenes
SECONDS_PER_SCENE = 12.0
LENGTH_TOLERANCE = 0.2  # accepted without revision: target ± 20 %
PROSE_MIN_SHARE = 0.4  # prose shorter than this share of the least words asked for is no script ("I can't")
PROSE_WARNING = "the language model answered in prose, not JSON: its text became the narration"
SCRIPT_HINT = "try again, choose another model, or give the script yourself"

#: The structured output asked of the model: the script schema.
SCRIPT_SCHEMA = JsonSchema("script", prompt_schema())

#: Called with a stage ("writing", "revising", "done") and the overall fraction done, 0..1.
ProgressCallback = Callable[[str, float], None]


@dataclass(frozen=True)
class ScriptPlan:
    """How long the script should be for a duration."""

    duration_s: float
    words_per_second: float
    scenes: int
    target_words: int

    @property
    def min_words(self) -> int:
        return math.floor(self.target_words * (1 - LENGTH_TOLERANCE))

    @property
    def max_words(self) -> int:
        return math.ceil(self.target_words * (1 + LENGTH_TOLERANCE))

    @classmethod
    def for_duration(cls, duration_s: float, words_per_second: float) -> ScriptPlan:
        scenes = max(1, min(MAX_SCENES, round(duration_s / SECONDS_PER_SCENE)))
        speaking_s = duration_s - SCENE_BREAK_S * (scenes - 1)
        return cls(duration_s, words_per_second, scenes, max(1, round(speaking_s * words_per_second)))


@dataclass(frozen=True)
class ScriptResult:
    script: Script
    warnings: tuple[str, ...]
    attempts: int  # 1, or 2 after a revision
    llm_name: str  # the provider that answered ("lmstudio", "gemini")
    model: str
    plan: ScriptPlan


@dataclass(frozen=True)
class _Verdict:
    script: Script | None  # None: unusable
    problem: str  # "" when the script is usable and the right length
    feedback: str  # what to tell the model in a revision request
    warning: str = ""  # how the script was read, when the user should know (prose)


class ScriptAgent:
    def __init__(
        self,
        llm: LLMProvider,
        words_per_second: float = 2.5,
        *,
        temperature: float = 0.7,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        if words_per_second <= 0:
            raise ValueError("words_per_second must be positive")
        self.llm = llm
        self.words_per_second = words_per_second
        self.temperature = temperature
        self.on_progress = on_progress

    async def write(self, prompt: str, duration_s: float) -> ScriptResult:
        prompt = prompt.strip()
        _check_request(prompt, duration_s)
        plan = ScriptPlan.for_duration(duration_s, self.words_per_second)
        messages = [ChatMessage("system", system_prompt(plan)), ChatMessage("user", user_prompt(prompt, plan))]

        title = title_from_prompt(prompt)
        answer = await self._ask(messages, plan, stage="writing", start=0.0, end=0.5)
        verdict = judge(answer, plan, title=title)
        attempts = 1
        warnings: list[str] = []
        if verdict.problem:
            messages += [ChatMessage("assistant", answer), ChatMessage("user", verdict.feedback)]
            answer = await self._ask(messages, plan, stage="revising", start=0.5, end=0.95)
            first_problem, verdict, attempts = verdict.problem, judge(answer, plan, title=title), 2
            if verdict.script is None:
                raise LLMOutputError(
                    f"the language model ({self.llm.name}, {self.llm.model}) wrote no usable script in two "
                    f"attempts: first {first_problem}; then {verdict.problem}",
                    hint=SCRIPT_HINT,
                    fields=NO_LLM_FIELDS,
                )
            if verdict.problem:
                warnings.append(f"the script is off in length after a revision: {verdict.problem}")
        assert verdict.script is not None  # a first answer without a problem has a script
        if verdict.warning:
            warnings.insert(0, verdict.warning)
        self._progress("done", 1.0)
        answered = getattr(self.llm, "last_provider", None) or self.llm  # a FallbackLLM says which answered
        return ScriptResult(verdict.script, tuple(warnings), attempts, answered.name, answered.model, plan)

    async def _ask(self, messages: list[ChatMessage], plan: ScriptPlan, *, stage: str, start: float, end: float) -> str:
        self._progress(stage, start)
        pieces: list[str] = []
        words = 0
        stream = self.llm.stream_chat(
            messages,
            temperature=self.temperature,
            max_tokens=max(4096, plan.target_words * 4 + 2000),
            json_schema=SCRIPT_SCHEMA,
        )
        async with closing_stream(stream) as answer:
            async for piece in answer:
                pieces.append(piece)
                words += piece.count(" ")
                self._progress(stage, start + (end - start) * min(0.99, words / (plan.target_words * 1.3)))
        return "".join(pieces)

    def _progress(self, stage: str, fraction: float) -> None:
        if self.on_progress is not None:
            self.on_progress(stage, fraction)


def judge(answer: str, plan: ScriptPlan, *, title: str = "Untitled") -> _Verdict:
    """Is ``answer`` a usable script of the planned length? If not, what should the revision fix?
    ``title`` is the script's title when the answer names none."""
    again = (
        f"Reply again with only the JSON object, matching the schema, with {plan.target_words} words of "
        f"narration in {_scenes(plan.scenes)}."
    )
    reading = read_answer(answer, title=title)
    problem = reading.problem
    if reading.script is not None and reading.prose:
        words = reading.script.word_count
        if words < PROSE_MIN_SHARE * plan.min_words:
            problem = f"{words} words of prose, too few to be the narration"
    if reading.script is None or problem:
        return _Verdict(
            None, f"the answer was unusable ({problem})", f"Your reply could not be used: {problem}. {again}"
        )
    warning = PROSE_WARNING if reading.prose else ""
    words = reading.script.word_count
    if plan.min_words <= words <= plan.max_words:
        return _Verdict(reading.script, "", "", warning)
    return _Verdict(
        reading.script,
        f"{words} words instead of {plan.target_words}",
        f"You wrote {words} words; rewrite to {plan.target_words} words (between {plan.min_words} and "
        f"{plan.max_words}) in {_scenes(plan.scenes)}, keeping the topic and tone. Reply with only the JSON object.",
        warning,
    )


def system_prompt(plan: ScriptPlan) -> str:
    schema = json.dumps(SCRIPT_SCHEMA.schema, separators=(",", ":"))
    per_scene = max(1, round(plan.target_words / plan.scenes))
    return (
        "You write narration scripts for short videos in which one presenter speaks to the camera.\n"
        "Reply with a single JSON object and nothing else (no markdown, no commentary) matching this JSON "
        f"schema:\n{schema}\n"
        'Example of the shape: {"title": "...", "scenes": [{"narration": "...", "caption": "..."}]}\n\n'
        "Rules:\n"
        "- The narration is spoken aloud: plain conversational sentences; no stage directions, markdown, "
        "lists, headings, emojis or URLs.\n"
        f"- Write {plan.target_words} words of narration in total (at least {plan.min_words}, at most "
        f"{plan.max_words}): the video lasts {plan.duration_s:g} seconds at {plan.words_per_second:g} words "
        "per second.\n"
        f"- Use {_scenes(plan.scenes)} of about {per_scene} words each.\n"
        "- Each caption is at most 8 words and sums up its scene on screen. The title is at most 8 words."
    )


def user_prompt(prompt: str, plan: ScriptPlan) -> str:
    return (
        f"Topic: {prompt}\n\n"
        f"Write the script as JSON: {_scenes(plan.scenes)}, {plan.target_words} words of narration in total."
    )


def _scenes(n: int) -> str:
    return "1 scene" if n == 1 else f"{n} scenes"


def _check_request(prompt: str, duration_s: float) -> None:
    if not prompt:
        raise ScriptError(
            "the prompt is empty", hint="say what the video should be about, e.g. 'explain photosynthesis'"
        )
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ScriptError(
            f"the prompt is too long: {len(prompt):,} characters; the limit is {MAX_PROMPT_CHARS:,}",
            hint="shorten it, or give the narration itself as the script",
            fields=NO_LLM_FIELDS,
        )
    if not (MIN_DURATION_S <= duration_s <= MAX_DURATION_S) or math.isnan(duration_s):
        raise ScriptError(
            f"the duration must be between {MIN_DURATION_S:g} and {MAX_DURATION_S:g} seconds, not {duration_s:g}",
            fields={"duration_s": "60"},
        )
