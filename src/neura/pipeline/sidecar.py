"""The JSON sidecar written next to every MP4: what was made, from what, how fast, under which licences."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neura.encode.atomic import write_bytes_atomic

if TYPE_CHECKING:
    from neura.pipeline.request import RenderRequest, RenderResult
    from neura.pipeline.stages import LoadedAvatar, ScriptInfo

MOUTH_COLUMNS = ["open", "spread", "round", "close", "tongue"]


def build_sidecar(
    *,
    request: RenderRequest,
    result: RenderResult,
    script_info: ScriptInfo,
    voice: Any,
    avatar: LoadedAvatar,
    version: str,
    project_license: str,
    models: list[dict[str, str]],
) -> dict[str, Any]:
    words, phonemes, mouth = result.words, result.phonemes, result.mouth
    return {
        "neura_version": version,
        "license": project_license,
        "output": {
            "path": result.output_path.name,
            "width": result.width,
            "height": result.height,
            "fps": request.fps,
            "n_frames": result.n_frames,
            "duration_s": round(result.duration_s, 3),
            "subtitles": [p.name for p in (result.srt_path, result.vtt_path) if p is not None],
            "thumbnail": result.thumbnail_path.name if result.thumbnail_path else None,
        },
        "request": {
            "prompt": request.prompt,
            "duration_s": request.duration_s,
            "resolution": request.resolution,
            "burn_captions": request.burn_captions,
            "background": request.background,
            "seed": request.seed,
        },
        "script": {
            "source": script_info.source,
            "attempts": script_info.attempts,
            **_plain(script_info.script),
        },
        "llm": script_info.llm,
        "voice": _plain(voice),
        "avatar": {"source": avatar.source, "size_px": int(avatar.asset.size_px), "cached_rig": avatar.cached},
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
        "warnings": result.warnings,
        "words": [[w.word, round(w.start_s, 3), round(w.end_s, 3)] for w in words],
        "phonemes": [[p.phoneme, round(p.start_s, 3), round(p.end_s, 3)] for p in phonemes],
        "mouth_track": {
            "fps": request.fps,
            "columns": MOUTH_COLUMNS,
            "values": np.round(mouth.astype(float), 3).tolist(),
        },
        "models": models,
    }


def write_sidecar(path: Path, **fields: Any) -> dict[str, Any]:
    sidecar = build_sidecar(**fields)
    data = (json.dumps(sidecar, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    write_bytes_atomic(path, data, "sidecar")  # OutputError (exit 73) on failure, no temporary file left
    return sidecar


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value
