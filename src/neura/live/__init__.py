"""Live avatar mode: a conversation with a talking avatar over WebRTC.

    LLM tokens -> clauses -> TTS -> lip sync -> media timeline -> audio + video tracks (one clock)

:class:`LiveManager` runs a process's sessions (limits, billing, registry, teardown);
:class:`LiveSession` is one conversation (peer connection, data channel, pipeline, tracks).

The names are imported on first use: an API-only process reads :mod:`neura.live.registry` without
loading the media stack (aiortc, PyAV, OpenCV) that the sessions need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neura.live.manager import LiveManager, LiveMetrics, SessionRequest
    from neura.live.session import LiveSession

__all__ = ["LiveManager", "LiveMetrics", "LiveSession", "SessionRequest"]


def __getattr__(name: str) -> Any:
    if name in ("LiveManager", "LiveMetrics", "SessionRequest"):
        from neura.live import manager

        return getattr(manager, name)
    if name == "LiveSession":
        from neura.live.session import LiveSession

        return LiveSession
    raise AttributeError(f"module 'neura.live' has no attribute {name!r}")
