"""Flows that run the engines: the offline render job (and, later, the live session)."""

from neura.pipeline.control import CancelToken, ProgressCallback, StageTimer
from neura.pipeline.offline import render_video
from neura.pipeline.request import RESOLUTIONS, RenderRequest, RenderResult

__all__ = [
    "RESOLUTIONS",
    "CancelToken",
    "ProgressCallback",
    "RenderRequest",
    "RenderResult",
    "StageTimer",
    "render_video",
]
