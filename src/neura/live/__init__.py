"""Live avatar mode: a conversation with a talking avatar over WebRTC.

    LLM tokens -> clauses -> TTS -> lip sync -> media timeline -> audio + video tracks (one clock)

:class:`LiveManager` runs a process's sessions (limits, billing, registry, teardown);
:class:`LiveSession` is one conversation (peer connection, data channel, pipeline, tracks).
"""

from neura.live.manager import LiveManager, LiveMetrics, SessionRequest
from neura.live.session import LiveSession

__all__ = ["LiveManager", "LiveMetrics", "LiveSession", "SessionRequest"]
