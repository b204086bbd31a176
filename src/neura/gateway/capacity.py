"""Whether a request's voice can be rendered: checked where the engines are.

In the ``all`` and ``media`` roles the engines are on this machine: an unknown voice is 422, one whose
engine is not installed here 503 ``engine_unavailable`` (:func:`neura.gateway.speech.check_voice`). In
the ``api`` role nothing is installed here: the voice must be one that a worker advertises now, else
503 ``no_capacity`` with ``Retry-After`` (:func:`neura.cluster.capabilities.require_voice`).
"""

from __future__ import annotations

from neura.cluster.capabilities import require_voice
from neura.gateway.state import AppState
from neura.tts.voices import VoiceRef


async def usable_voice(state: AppState, voice: VoiceRef | None) -> VoiceRef:
    """The voice a video request asked for (None: the deployment's default), if it can be rendered."""
    settings = state.settings
    if settings.role != "api":
        from neura.gateway.speech import check_voice  # the engines' voice lists: not in an API process

        return check_voice(settings, voice)
    ref = voice or VoiceRef.configured(settings)
    await require_voice(state.capabilities, str(ref), retry_after_s=settings.no_capacity_retry_after_s)
    return ref
