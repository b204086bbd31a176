"""The offline job's preparation stages: script, avatar and layout."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neura.config import Settings
from neura.errors import InputError
from neura.pipeline.defaults import DEMO_AVATAR_NAME, DEMO_SCRIPT, demo_avatar
from neura.pipeline.request import RenderRequest, avatar_px
from neura.script import Script
from neura.tts import TTSEngine

if TYPE_CHECKING:
    from neura.render.seam import RenderAsset, Renderer
    from neura.script import ScriptResult

log = logging.getLogger(__name__)

_HEX_COLOUR = re.compile(r"^#?([0-9a-fA-F]{6})$")


@dataclass
class ScriptInfo:
    script: Script
    source: str  # "prompt" | "script" | "demo"
    warnings: list[str] = field(default_factory=list)
    llm: dict[str, str] | None = None
    attempts: int = 0

    @classmethod
    def from_result(cls, written: ScriptResult) -> ScriptInfo:
        """A script the language model wrote from the prompt."""
        return cls(
            written.script,
            "prompt",
            warnings=list(written.warnings),
            llm={"provider": written.llm_name, "model": written.model},
            attempts=written.attempts,
        )

    def to_json(self) -> dict[str, Any]:
        """What a video row keeps of a script written before its render (``videos.script``)."""
        return {
            "written": self.script.model_dump(),
            "source": self.source,
            "warnings": self.warnings,
            "llm": self.llm,
            "attempts": self.attempts,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScriptInfo:
        return cls(
            Script.model_validate(data["written"]),
            str(data.get("source", "prompt")),
            warnings=list(data.get("warnings") or []),
            llm=data.get("llm"),
            attempts=int(data.get("attempts") or 0),
        )


@dataclass
class LoadedAvatar:
    """The avatar of one render: the renderer's asset (stored, cached or built now) and where it came from."""

    asset: RenderAsset
    source: str
    warnings: list[str] = field(default_factory=list)
    cached: bool = False


def resolve_script(request: RenderRequest, settings: Settings, tts: TTSEngine) -> ScriptInfo:
    if request.written_script is not None:  # written from the prompt before the render (a job's script step)
        written: ScriptInfo = request.written_script
        return written
    if request.script_text is not None:
        return ScriptInfo(Script.from_text(request.script_text), "script")
    if request.prompt is None:  # neither a script nor a prompt ("" is an empty prompt: the agent says so)
        return ScriptInfo(Script.from_text(DEMO_SCRIPT), "demo")

    from neura.llm import create_llm
    from neura.script import ScriptAgent

    llm = create_llm(settings, request.llm_provider)
    agent = ScriptAgent(llm, words_per_second=tts.speaking_rate_wps())
    return ScriptInfo.from_result(asyncio.run(agent.write(request.prompt, request.duration_s)))


def prepare_avatar(
    request: RenderRequest, size_px: int, renderer: Renderer, cache_dir: Path | None = None
) -> LoadedAvatar:
    """The renderer's asset at ``size_px``: the one the request brings (an avatar's stored asset), else
    loaded from the cache, else built from the photo (and cached)."""
    from neura.avatar import load_image, rig_cache_key

    if request.avatar_asset is not None:
        asset = request.avatar_asset
        if asset.size_px != size_px:
            raise InputError(f"the avatar's asset is {asset.size_px} px; this layout needs {size_px} px")
        return LoadedAvatar(asset, request.avatar_name or "avatar", warnings=list(asset.warnings), cached=True)
    if request.avatar is None:
        rgb = demo_avatar()
        source = DEMO_AVATAR_NAME
        key_bytes = hashlib.sha256(rgb.tobytes()).digest()
    else:
        raw = request.avatar if isinstance(request.avatar, bytes) else _read_avatar(request.avatar)
        source = request.avatar_name or (str(request.avatar) if isinstance(request.avatar, Path) else "upload")
        rgb = load_image(raw, name=source if isinstance(request.avatar, Path) else f"the avatar photo '{source}'")
        key_bytes = raw

    cache_path = None
    if cache_dir is not None:
        cache_path = cache_dir / "assets" / renderer.asset_kind / f"{rig_cache_key(key_bytes, size_px)}.bin"
        if cache_path.is_file():
            try:
                asset = renderer.load_asset(cache_path.read_bytes())
                return LoadedAvatar(asset, source, warnings=list(asset.warnings), cached=True)
            except (OSError, ValueError) as exc:  # a stale or torn cache entry (an outdated asset): rebuild
                log.warning("ignoring unreadable avatar cache %s: %s", cache_path, exc)

    asset = renderer.prepare(rgb, size_px=size_px, name=source)
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(".tmp")
        tmp.write_bytes(renderer.dump_asset(asset))
        tmp.replace(cache_path)
    return LoadedAvatar(asset, source, warnings=list(asset.warnings))


def _read_avatar(path: Path) -> bytes:
    from neura.errors import ImageError

    try:
        return Path(path).expanduser().read_bytes()
    except FileNotFoundError as exc:
        raise ImageError(f"avatar image not found: {path}") from exc
    except IsADirectoryError as exc:
        raise ImageError(f"avatar path is a folder, not an image: {path}") from exc
    except OSError as exc:
        raise ImageError(f"cannot read avatar image {path}: {exc.strerror}") from exc


def parse_background(value: str | None) -> Any:
    """``None`` (the layout's default), ``#rrggbb`` (a colour) or an image path (cover-fitted)."""
    if value is None:
        return None
    match = _HEX_COLOUR.match(value.strip())
    if match:
        hex_value = match.group(1)
        return tuple(int(hex_value[i : i + 2], 16) for i in (0, 2, 4))
    path = Path(value).expanduser()
    if not path.is_file():
        raise InputError(
            f"background '{value}' is neither a colour like #1e293b nor an image file",
            fields={"background": "#1e293b"},
        )
    from neura.avatar import load_image

    return load_image(path, name=f"the background {path.name}")


BACKGROUND_UNUSED = (
    "the background is not used at 512x512: the portrait fills the frame (it shows behind the 720p layout)"
)


def prepare_layout(request: RenderRequest, width: int, height: int) -> tuple[Any, int, list[str]]:
    """The layout for the requested resolution, the avatar size (px) it wants, and warnings about
    options that do nothing at this resolution."""
    from neura.render import Layout

    background = parse_background(request.background)  # checked at every resolution: a typo is an error
    if request.resolution == "720p":
        layout = Layout.presenter_720p(background, avatar_size=avatar_px(request.resolution))
        return layout, int(layout.avatar_size_px), []
    layout = Layout.square(size=avatar_px(request.resolution))
    return layout, int(layout.avatar_size_px), [BACKGROUND_UNUSED] if background is not None else []
