"""What a presenter says: a :class:`Script` of :class:`Scene` s, each with narration and a short caption.

A script comes from the language model (as JSON matching :func:`prompt_schema`) or from the user's own
text (:meth:`Script.from_text`, for ``--script script.txt``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from neura.errors import ScriptError
from neura.limits import SCRIPT_MAX_CHARS, SCRIPT_MAX_SCENES
from neura.tts.normalize import foreign_script, strip_markup

MAX_TOTAL_CHARS = SCRIPT_MAX_CHARS  # narration, all scenes together: about 20 minutes of speech
MAX_SCENES = SCRIPT_MAX_SCENES
MAX_CAPTION_CHARS = 60  # longer captions are shortened at a word boundary
MAX_TITLE_CHARS = 80

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_TITLE_LINE = re.compile(r"^#\s+(.+)$")


def count_words(text: str) -> int:
    """Spoken words: whitespace-separated tokens that hold a letter or digit (not "—" or "…")."""
    return sum(1 for token in text.split() if any(c.isalnum() for c in token))


def shorten(text: str, max_chars: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``max_chars`` (with "…" when cut)."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–—") + "…"


def first_sentence(narration: str) -> str:
    """The narration's first sentence, on one line, without its final full stop."""
    first = _SENTENCE_END.split(" ".join(narration.split()), maxsplit=1)[0]
    return first[:-1] if first.endswith(".") and not first.endswith("..") else first


def caption_for(narration: str) -> str:
    """A caption made from the narration's first sentence, without its final full stop."""
    return shorten(first_sentence(narration), MAX_CAPTION_CHARS)


class Scene(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    narration: str = Field(min_length=1, description="What the presenter says in this scene: plain spoken sentences.")
    caption: str = Field(min_length=1, description="Short on-screen caption for this scene, at most 8 words.")

    @field_validator("narration")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("caption")
    @classmethod
    def _short_caption(cls, value: str) -> str:
        return shorten(value, MAX_CAPTION_CHARS)

    @property
    def word_count(self) -> int:
        return count_words(self.narration)


class Script(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    title: str = Field(description="Title of the video, at most 8 words.")
    scenes: list[Scene] = Field(min_length=1, max_length=MAX_SCENES, description="The scenes, in order.")

    @model_validator(mode="after")
    def _limits(self) -> Script:
        chars = self.char_count
        if chars > MAX_TOTAL_CHARS:
            raise ValueError(f"the narration has {chars:,} characters; the limit is {MAX_TOTAL_CHARS:,}")
        self.title = shorten(self.title, MAX_TITLE_CHARS) or self.scenes[0].caption
        return self

    @property
    def word_count(self) -> int:
        return sum(scene.word_count for scene in self.scenes)

    @property
    def char_count(self) -> int:
        return sum(len(scene.narration) for scene in self.scenes)

    @property
    def narration(self) -> str:
        """Everything the presenter says, scenes separated by blank lines."""
        return "\n\n".join(scene.narration for scene in self.scenes)

    def to_text(self) -> str:
        """The script in the file format :meth:`from_text` reads (``# Title``, then one paragraph per
        scene): what a user edits and submits as a video's script. Captions are not part of that format
        (:meth:`from_text` makes each from its scene's first sentence)."""
        return f"# {self.title}\n\n{self.narration}\n"

    @classmethod
    def from_text(cls, text: str, *, title: str | None = None) -> Script:
        """A script from plain text: blank-line-separated paragraphs become scenes; a first line
        ``# Title`` becomes the title; each caption is its scene's first sentence, shortened."""
        text = strip_markup(text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")).strip()
        if not text:
            raise ScriptError("the script is empty", hint="write the narration as paragraphs separated by blank lines")
        first_line, _, rest = text.partition("\n")
        heading = _TITLE_LINE.match(first_line.strip())
        if heading:
            title, text = title or heading.group(1).strip(), rest.strip()
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
        if not paragraphs:
            raise ScriptError("the script has a title but no narration", hint="add paragraphs below the '# ' line")
        if not any(ch.isalnum() for p in paragraphs for ch in p):
            raise ScriptError(
                "the script has no words to speak", hint="write the narration in words (letters or digits)"
            )
        script = foreign_script(text)
        if script:
            raise ScriptError(
                f"the script is written in {script} script; NEURA's voices speak English",
                hint="write the narration in English (Latin letters)",
            )
        chars = sum(len(p) for p in paragraphs)
        if chars > MAX_TOTAL_CHARS:
            raise ScriptError(
                f"the script is too long: {chars:,} characters of narration; the limit is {MAX_TOTAL_CHARS:,}",
                hint="split it into several videos",
            )
        if len(paragraphs) > MAX_SCENES:
            raise ScriptError(
                f"the script has {len(paragraphs)} paragraphs; the limit is {MAX_SCENES} scenes",
                hint="join some paragraphs: each blank-line-separated paragraph becomes one scene",
            )
        scenes = [Scene(narration=p, caption=caption_for(p)) for p in paragraphs]
        try:
            return cls(title=title or scenes[0].caption, scenes=scenes)
        except ValidationError as error:  # not expected after the checks above; keep the message readable
            raise ScriptError(f"the script cannot be used: {describe_validation_error(error)}") from error


def prompt_schema() -> dict[str, Any]:
    """The JSON schema of :class:`Script` for a prompt: pydantic's, without the noise of titles."""
    return _without_titles(Script.model_json_schema())


def describe_validation_error(error: ValidationError, *, limit: int = 5) -> str:
    """One line per problem, e.g. ``scenes.2.caption: Field required``."""
    problems = [
        f"{'.'.join(str(part) for part in e['loc']) or 'the object'}: {e['msg']}" for e in error.errors()[:limit]
    ]
    more = error.error_count() - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


def _without_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_without_titles(v) for v in node]
    return node
