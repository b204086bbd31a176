"""Script drafts: a prompt in, the language model's script out, in the format a video's ``script`` takes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from neura.gateway.schemas.text import STORABLE
from neura.gateway.schemas.videos import DEFAULT_PROMPT_DURATION_S
from neura.jobs.videos import SCRIPT_WORDS_PER_S, script_duration_s
from neura.script import ScriptResult

PROMPT_MAX_CHARS = 2000  # as VideoCreate.prompt


class ScriptDraftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    prompt: Annotated[str, STORABLE] = Field(
        min_length=1, max_length=PROMPT_MAX_CHARS, description="what the video should explain"
    )
    duration_s: float = Field(
        DEFAULT_PROMPT_DURATION_S, ge=5, le=600, description="the length to write for, in seconds of video"
    )


class ScriptScene(BaseModel):
    narration: str = Field(description="what the presenter says")
    caption: str = Field(
        description="the model's caption (a submitted script captions each scene with its first sentence)"
    )


class LLMUsed(BaseModel):
    provider: str = Field(description="the provider that answered ('lmstudio', 'gemini')")
    model: str


class ScriptDraft(BaseModel):
    title: str
    text: str = Field(
        description="the script as POST /v1/videos takes it in `script`: '# Title', then one paragraph per scene, "
        "separated by blank lines; edit it freely before submitting"
    )
    scenes: list[ScriptScene]
    words: int = Field(description="spoken words")
    estimated_duration_s: float = Field(
        description=f"the video's length as a submission sizes it ({SCRIPT_WORDS_PER_S:g} words a second, as "
        "POST /v1/videos/estimate reports for `text`); the voice's own pace decides the final length"
    )
    target_duration_s: float = Field(description="the duration_s asked for")
    llm: LLMUsed
    attempts: int = Field(description="1, or 2 when the model was asked to revise its first answer")
    warnings: list[str] = Field(description="e.g. a script still off in length after a revision")
    credits_charged: int

    @classmethod
    def from_result(cls, result: ScriptResult, *, credits_charged: int) -> ScriptDraft:
        script = result.script
        text = script.to_text()
        return cls(
            title=script.title,
            text=text,
            scenes=[ScriptScene(narration=scene.narration, caption=scene.caption) for scene in script.scenes],
            words=script.word_count,
            estimated_duration_s=round(script_duration_s(text), 2),
            target_duration_s=result.plan.duration_s,
            llm=LLMUsed(provider=result.llm_name, model=result.model),
            attempts=result.attempts,
            warnings=list(result.warnings),
            credits_charged=credits_charged,
        )
