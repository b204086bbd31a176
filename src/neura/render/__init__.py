"""Rendering: avatar frames through the renderer seam, and video frames from layouts.

    renderer = create_renderer(settings)                          # RENDER_BACKEND / RENDER_DEVICE
    asset = renderer.prepare(photo, size_px=640)                  # or renderer.load_asset(stored_bytes)
    stream = renderer.stream(asset, fps=25, seed=0)
    stream.push_speech(SpeechTrack(samples, rate_hz, mouth))      # audio + per-frame mouth track
    layout = Layout.presenter_720p(background, avatar_size=640, dynamic_roi=asset.roi)
    for frame in stream.render_next():                            # a batch of pts-stamped frames
        i420 = layout.compose(frame.image, caption=subtitle)      # (720 * 3 // 2, 1280)

See :mod:`neura.render.seam` for the contract. Names load lazily: reading the backend table (settings
validation) imports neither OpenCV nor a backend.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neura.render.cpu import CpuBackend
    from neura.render.layout import Layout
    from neura.render.providers import RENDERERS, create_renderer
    from neura.render.seam import RenderedFrame, Renderer, RenderStream, SpeechTrack

_WHERE = {
    "CpuBackend": "neura.render.cpu",
    "Layout": "neura.render.layout",
    "RENDERERS": "neura.render.providers",
    "create_renderer": "neura.render.providers",
    "RenderedFrame": "neura.render.seam",
    "Renderer": "neura.render.seam",
    "RenderStream": "neura.render.seam",
    "SpeechTrack": "neura.render.seam",
}
__all__ = [
    "RENDERERS",
    "CpuBackend",
    "Layout",
    "RenderStream",
    "RenderedFrame",
    "Renderer",
    "SpeechTrack",
    "create_renderer",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'neura.render' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
