"""Reading a language model's answer as a :class:`Script`, whatever small local models actually write.

Asked for JSON of the script schema (and constrained to it where the server can), models still answer
in three ways, and each is used when it holds narration:

* the JSON asked for, perhaps in ```json fences, after a ``<think>`` block or between chatter;
* JSON of another shape: ``"text"`` for ``"narration"``, scenes as plain strings, no captions, the whole
  narration in one string. Captions then come from each scene's first sentence, the title from the
  prompt;
* prose: the narration itself. Paragraphs become scenes, a heading line (``# Title``, ``**Title**``,
  ``Title: ...`` or a short line without a full stop) the title, a heading above a paragraph its
  caption; markdown, bullets, scene labels, stage directions and the chatter before and after
  ("Sure! Here is your script:", "Let me know if...") are left out.

Only an answer with nothing to speak (empty, or JSON without narration) is unusable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from neura.llm.reasoning import strip_think
from neura.script.schema import (
    MAX_SCENES,
    MAX_TITLE_CHARS,
    Scene,
    Script,
    caption_for,
    describe_validation_error,
    shorten,
)

NARRATION_KEYS = ("narration", "text", "content", "script", "voiceover", "voice_over", "dialogue", "speech", "body")
CAPTION_KEYS = ("caption", "title", "heading", "summary")
SCENE_LIST_KEYS = ("scenes", "sections", "paragraphs", "parts", "segments")
TITLE_MAX_WORDS = 12  # a first line this short, without a full stop, is a title
NO_NARRATION = "the reply holds no narration"
PREAMBLE_MAX_WORDS = 30

_FENCE = re.compile(r"^\s*```")
_HEADING = re.compile(r"^\s*#{1,6}\s+(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)(.+?)\1\s*:?\s*$")
_TITLE_LABEL = re.compile(r"^\s*title\s*:\s*(.+)$", re.IGNORECASE)
_SCENE_LABEL = re.compile(
    r"^\s*[\[(]?\s*(?:scene|part|section|segment|slide)\s*\d*\s*[\])]?\s*(?:[:.\-–—]\s*|$)", re.IGNORECASE
)
_SPEAKER = re.compile(r"^\s*(?:narrator|presenter|host|voice[- ]?over|vo|speaker)\s*(?:\([^)]*\))?\s*:\s*", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_DIRECTION = re.compile(r"^\s*[\[(][^\])]*[\])]\s*$")  # a whole line in brackets: (music), [Cut to ...]
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_CHATTER_START = re.compile(
    r"^\s*(sure|certainly|of course|absolutely|okay|ok|here is|here's|below is|great)\b", re.IGNORECASE
)
_CHATTER_END = re.compile(
    r"^\s*(let me know|i hope|feel free|would you like|if you'd like|if you want|note:|enjoy)\b", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?…]$")
_ABOUT_ANSWER = re.compile(r"\b(script|narration|voice-?over|draft|version)\b", re.IGNORECASE)
_JSON_KEY = re.compile(r"""\{\s*["']?\w+["']?\s*:""")


@dataclass(frozen=True)
class Reading:
    """What an answer holds: a script, or the problem that leaves none."""

    script: Script | None
    problem: str = ""  # why there is no script ("" when there is one)
    prose: bool = False  # the script was read from prose, not JSON


def read_answer(text: str, *, title: str) -> Reading:
    """``text`` as a script; ``title`` is used when the answer names none."""
    text = strip_think(text).strip()
    if not text:
        return Reading(None, "the reply was empty")
    try:
        value = extract_json_object(text)
    except ValueError as error:
        if _looks_like_json(text):  # JSON that is broken (cut off, single quotes): ask again
            return Reading(None, str(error))
        return _from_prose(text, title)
    return _from_json(value, title)


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model's answer, tolerant of ```json fences, reasoning blocks and
    chatter before or after it. Raises ValueError naming what was wrong."""
    text = strip_think(text).strip()
    if not text:
        raise ValueError("the reply was empty")
    decoder = json.JSONDecoder()
    last_error: json.JSONDecodeError | None = None
    start = text.find("{")
    for _ in range(50):  # enough for any chatter; bounds the work on a pathological answer
        if start < 0:
            break
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as error:
            last_error = last_error or error
        else:
            if isinstance(value, dict):
                return value
        start = text.find("{", start + 1)
    if last_error is not None:
        raise ValueError(f"the JSON is invalid: {last_error.msg} at character {last_error.pos}")
    raise ValueError("the reply holds no JSON object")


def title_from_prompt(prompt: str) -> str:
    """A title for a script whose answer named none: the prompt, on one line, shortened."""
    title = shorten(prompt, MAX_TITLE_CHARS).rstrip(" .?!:;")
    return title[:1].upper() + title[1:]


# --- JSON


def _looks_like_json(text: str) -> bool:
    """JSON was meant (a reply that opens with an object or a fence, or holds ``{"key":``), even if
    what came is broken: worth a revision, not a reading as prose."""
    body = text.lstrip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
    return body.lstrip().startswith(("{", "[")) or _JSON_KEY.search(text) is not None


def _from_json(value: dict[str, Any], title: str) -> Reading:
    try:
        return Reading(Script.model_validate(value))
    except ValidationError as error:
        reshaped = _reshaped(value, title)
        if reshaped.script is None and reshaped.problem == NO_NARRATION:  # not another shape: say what is wrong
            return Reading(None, describe_validation_error(error))
        return reshaped


def _reshaped(value: dict[str, Any], title: str) -> Reading:
    """A script from JSON of another shape than the schema's, when it holds narration."""
    named = _first_string(value, ("title",)) or title
    items = next((value[k] for k in SCENE_LIST_KEYS if isinstance(value.get(k), list)), None)
    scenes: list[tuple[str, str | None]] = []
    if items is not None:
        for item in items:
            if isinstance(item, str):
                scenes.append((item, None))
            elif isinstance(item, dict) and (narration := _first_string(item, NARRATION_KEYS)):
                scenes.append((narration, _first_string(item, CAPTION_KEYS)))
    elif narration := _first_string(value, NARRATION_KEYS):
        scenes = [(paragraph, None) for paragraph in re.split(r"\n\s*\n", narration)]
    return _script(named, scenes)


def _first_string(value: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        found = value.get(key)
        if isinstance(found, str) and found.strip():
            return found
    return None


# --- prose


def _from_prose(text: str, title: str) -> Reading:
    blocks = _blocks(text)
    if blocks and not blocks[0][0] and _is_preamble(blocks[0][1]):
        blocks = blocks[1:]  # "Sure! Here is a script about tides:"
    if len(blocks) > 1 and _CHATTER_END.match(blocks[-1][1]):
        blocks = blocks[:-1]  # "Let me know if you would like changes!"
    named = None
    if len(blocks) > 1 and (blocks[0][0] or _short_line(blocks[0][1])):
        named, blocks = blocks[0][1], blocks[1:]
    scenes: list[tuple[str, str | None]] = []
    caption: str | None = None
    for heading, body in blocks:
        if heading:
            caption = body  # a heading above a paragraph: that scene's caption
            continue
        scenes.append((body, caption))
        caption = None
    reading = _script(named or title, scenes)
    return Reading(reading.script, reading.problem, prose=reading.script is not None)


def _blocks(text: str) -> list[tuple[bool, str]]:
    """Paragraphs of plain text as (is_heading, text), markdown and stage directions removed. The
    first line is a heading too when it is short, without a full stop, and a new sentence follows it
    on the next line ("The Water Cycle" then "Water evaporates...")."""
    blocks: list[tuple[bool, str]] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first, _, rest = text.partition("\n")
    titled = _short_line(first.strip()) and rest[:1].isupper() and first.strip()[:1].isupper()
    for paragraph in re.split(r"\n\s*\n", text):
        lines: list[str] = []
        for raw in paragraph.split("\n"):
            if _FENCE.match(raw) or _DIRECTION.match(raw):
                continue
            heading, line = _plain_line(raw)
            if titled:
                heading, titled = True, False
            if heading:
                if lines:
                    blocks.append((False, " ".join(lines)))
                    lines = []
                if line:
                    blocks.append((True, line))
            elif line:
                lines.append(line)
        if lines:
            blocks.append((False, " ".join(lines)))
    return blocks


def _plain_line(raw: str) -> tuple[bool, str]:
    """(is_heading, the line without markdown, labels or emphasis)."""
    heading = False
    line = raw.strip()
    for pattern in (_HEADING, _BOLD_LINE, _TITLE_LABEL):
        if match := pattern.match(line):
            heading, line = True, match.group(match.lastindex or 1).strip()
    labelled = _SCENE_LABEL.match(line)
    if labelled:
        rest = line[labelled.end() :].strip()
        heading, line = heading or not _SENTENCE_END.search(rest), rest
    line = _SPEAKER.sub("", _EMPHASIS.sub(r"\2", _BULLET.sub("", line)))
    return heading, line.strip().strip('"“”').strip()


def _is_preamble(text: str) -> bool:
    """A model's words about its answer rather than the answer: "Sure! Here is the script:"."""
    if len(text.split()) > PREAMBLE_MAX_WORDS:
        return False
    return text.endswith(":") or (_CHATTER_START.match(text) is not None and _ABOUT_ANSWER.search(text) is not None)


def _short_line(text: str) -> bool:
    return len(text.split()) <= TITLE_MAX_WORDS and not _SENTENCE_END.search(text)


def _script(title: str, scenes: list[tuple[str, str | None]]) -> Reading:
    """A script of these (narration, caption) scenes: those without words left out, more than
    :data:`MAX_SCENES` joined; the problem when nothing is left or the limits refuse it."""
    spoken = [(" ".join(n.split()), c) for n, c in scenes if any(ch.isalnum() for ch in n)]
    if not spoken:
        return Reading(None, NO_NARRATION)
    if len(spoken) > MAX_SCENES:  # join neighbours into MAX_SCENES scenes, in order
        size = -(-len(spoken) // MAX_SCENES)
        spoken = [(" ".join(n for n, _ in spoken[i : i + size]), spoken[i][1]) for i in range(0, len(spoken), size)]
    try:
        return Reading(
            Script(
                title=title,
                scenes=[Scene(narration=n, caption=(c or "").strip() or caption_for(n)) for n, c in spoken],
            )
        )
    except ValidationError as error:  # over the character limit
        return Reading(None, describe_validation_error(error))
