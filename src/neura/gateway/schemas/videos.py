"""Offline videos: what a client submits and what it reads back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from neura import limits
from neura.db.models import Video
from neura.gateway.schemas.text import STORABLE
from neura.gateway.schemas.voices import VoiceField
from neura.jobs.videos import VideoSpec
from neura.tts.voices import VoiceRef

DEFAULT_PROMPT_DURATION_S = limits.DURATION_DEFAULT_S  # the CLI's --duration default too
VideoStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
ArtifactKind = Literal["mp4", "srt", "vtt", "thumbnail", "sidecar"]


class VideoCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: Annotated[str | None, STORABLE] = Field(
        None,
        min_length=1,
        max_length=limits.PROMPT_MAX_CHARS,
        description=f"what the video should explain (at most {limits.PROMPT_MAX_CHARS:,} characters); a language "
        "model writes the script",
    )
    script: Annotated[str | None, STORABLE] = Field(
        None,
        min_length=1,
        max_length=limits.SCRIPT_MAX_CHARS,
        description="text to speak as is; blank lines separate scenes, an optional first line '# Title' titles it; at "
        f"most {limits.SCRIPT_MAX_CHARS:,} characters in {limits.SCRIPT_MAX_SCENES} scenes",
    )
    avatar_id: uuid.UUID | None = Field(None, description="one of your avatars; none: the built-in portrait")
    voice: VoiceField = None
    resolution: Literal["720p", "512"] = "720p"
    captions: bool = Field(False, description="burn subtitles into the picture")
    duration_s: float | None = Field(
        None,
        ge=limits.DURATION_MIN_S,
        le=limits.DURATION_MAX_S,
        description=f"target length with a prompt, {limits.DURATION_MIN_S:g} to {limits.DURATION_MAX_S:g} s "
        f"(default {limits.DURATION_DEFAULT_S:g} s; the plan's max_video_s caps it); a script sets its own",
    )
    background: Annotated[str | None, STORABLE] = Field(
        None,
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="background colour, #rrggbb, behind the 720p layout (at 512 the portrait fills the frame: "
        "unused, and the sidecar's warnings say so)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.prompt is None) == (self.script is None):
            raise ValueError("give either a prompt or a script")
        return self

    def spec(self, voice: VoiceRef) -> VideoSpec:
        """What to render, with ``voice`` the one the request's field resolved to on this server."""
        return VideoSpec(
            prompt=self.prompt,
            script=self.script,
            avatar_id=self.avatar_id,
            voice=str(voice),
            resolution=self.resolution,
            captions=self.captions,
            duration_s=self.duration_s or DEFAULT_PROMPT_DURATION_S,
            background=self.background.lower() if self.background else None,
        )


class VideoLinks(BaseModel):
    self: str
    events: str
    events_ws: str
    download: str


class VideoPublic(BaseModel):
    id: uuid.UUID
    status: VideoStatus
    stage: str | None
    progress: float = Field(description="0..1, over all stages")
    error: str | None = Field(description="why it failed, written for the user")
    prompt: str | None
    script: str | None
    avatar_id: uuid.UUID | None
    voice: str = Field(description="the voice that speaks it, as 'engine:voice'")
    resolution: str
    captions: bool
    background: str | None
    target_duration_s: float
    duration_s: float | None
    credits_reserved: int
    credits_charged: int | None
    attempts: int
    cancel_requested: bool
    artifacts: list[str] = Field(description="files you can download once it succeeded")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: VideoLinks

    @classmethod
    def from_row(cls, video: Video) -> VideoPublic:
        base = f"/v1/videos/{video.id}"
        return cls(
            id=video.id,
            status=video.status,
            stage=video.stage,
            progress=video.progress,
            error=video.error,
            prompt=video.prompt,
            script=(video.script or {}).get("text"),
            avatar_id=video.avatar_id,
            voice=video.voice,
            resolution=video.resolution,
            captions=video.captions,
            background=video.background,
            target_duration_s=round(video.target_duration_s, 2),
            duration_s=video.duration_s,
            credits_reserved=video.credits_reserved,
            credits_charged=video.credits_charged,
            attempts=video.attempts,
            cancel_requested=video.cancel_requested,
            artifacts=sorted(video.artifacts) if video.status == "succeeded" else [],
            created_at=video.created_at,
            started_at=video.started_at,
            finished_at=video.finished_at,
            links=VideoLinks(
                self=base, events=f"{base}/events", events_ws=f"{base}/events/ws", download=f"{base}/download"
            ),
        )


class VideoPage(BaseModel):
    items: list[VideoPublic]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; None on the last page")


class DownloadLink(BaseModel):
    url: str = Field(description="signed; works without credentials until expires_at")
    expires_at: datetime
    kind: ArtifactKind
    content_type: str
