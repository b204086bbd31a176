"""What an offline render is asked to make, and what it made."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from neura.errors import InputError
from neura.limits import DURATION_DEFAULT_S
from neura.media import MOUTH_CHANNELS, PhonemeSpan, WordSpan
from neura.tts.voices import VoiceRef

Resolution = Literal["720p", "512"]

RESOLUTIONS: dict[str, tuple[int, int]] = {"720p": (1280, 720), "512": (512, 512)}
_AVATAR_PX: dict[str, int] = {"720p": 640, "512": 512}  # the avatar card's side in each layout


def avatar_px(resolution: str) -> int:
    """The avatar's side (px) in a resolution's layout: the size of the asset a render needs."""
    return _AVATAR_PX[resolution]


@dataclass
class RenderRequest:
    """One offline video. Give ``prompt`` (an LLM writes the script) or ``script_text``; neither means
    the embedded demo script. ``avatar`` is a photo (path or bytes); None means the default portrait;
    ``avatar_asset`` (a :class:`~neura.render.seam.RenderAsset`) replaces the photo."""

    output_path: Path
    prompt: str | None = None
    script_text: str | None = None
    duration_s: float = DURATION_DEFAULT_S
    avatar: Path | bytes | None = None
    avatar_name: str | None = None
    avatar_asset: Any = None  # the renderer's asset of an avatar (its stored one, at avatar_px): no rebuild
    written_script: Any = None  # the prompt's script, already written (a ScriptInfo: the job's script step)
    resolution: Resolution = "720p"
    burn_captions: bool = False
    background: str | None = None  # "#rrggbb" or an image path
    voice: VoiceRef | None = None  # None: the configured voice (TTS_VOICE, else TTS_PROVIDER's default)
    llm_provider: str | None = None  # default: settings' chain
    seed: int = 0
    fps: int = 25
    write_subtitles: bool = True
    write_thumbnail: bool = True
    write_sidecar: bool = True

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise InputError(f"the seed must be 0 or more, got {self.seed}")


@dataclass
class RenderResult:
    output_path: Path
    duration_s: float
    n_frames: int
    width: int
    height: int
    sidecar_path: Path | None = None
    srt_path: Path | None = None
    vtt_path: Path | None = None
    thumbnail_path: Path | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    words: list[WordSpan] = field(default_factory=list)
    phonemes: list[PhonemeSpan] = field(default_factory=list)
    mouth: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, MOUTH_CHANNELS), np.float32))
    sidecar: dict[str, Any] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        paths = [self.output_path, self.sidecar_path, self.srt_path, self.vtt_path, self.thumbnail_path]
        return [p for p in paths if p is not None]
