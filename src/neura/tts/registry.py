"""Loading voices (``create_tts``: each engine once per process) and listing them (``list_voices``).

Which engines exist is the provider table (:mod:`neura.tts.providers`); which voice is meant is a
:class:`~neura.tts.voices.VoiceRef`. Neither function knows an engine by name.
"""

from __future__ import annotations

import contextlib
import threading

from neura.config import Settings
from neura.tts.base import TTSEngine, VoiceInfo
from neura.tts.providers import TTS
from neura.tts.voices import UnknownVoiceError, VoiceRef

_engines: dict[tuple[str, ...], TTSEngine] = {}
_lock = threading.Lock()


def voice_ref(voice: VoiceRef | str | None, settings: Settings) -> VoiceRef:
    """``voice`` as a reference: None is the deployment's default (TTS_VOICE, else TTS_PROVIDER's)."""
    if voice is None:
        return VoiceRef.configured(settings)
    return voice if isinstance(voice, VoiceRef) else VoiceRef.parse(voice)


def create_tts(voice: VoiceRef | str | None, settings: Settings, *, threads: int = 1) -> TTSEngine:
    """The engine speaking ``voice`` (None: the default voice), loaded once per process and reused.

    ``threads``: CPU threads for engines that use several (Piper); 1 leaves the other core to rendering.
    Raises :class:`UnknownVoiceError` for a voice its engine does not have, and
    :class:`~neura.errors.EngineUnavailableError` when the engine or voice cannot be loaded here.
    """
    ref = voice_ref(voice, settings)
    key = (ref.engine, ref.voice, str(settings.cache_dir), str(settings.xtts_model_dir), str(threads))
    with _lock:  # one load at a time: a second caller waits for the first one's engine
        if key not in _engines:
            _engines[key] = TTS.create(ref.engine).load(ref.voice, settings, threads=threads)
        return _engines[key]


def clear_engine_cache() -> None:
    """Forget loaded engines (tests; freeing memory)."""
    with _lock:
        _engines.clear()


def list_voices(settings: Settings) -> list[VoiceInfo]:
    """Voices usable here, engine by engine in the table's order, without loading any model."""
    return [voice for name in TTS.names() for voice in TTS.create(name).voices(settings)]


def find_voice(ref: VoiceRef, settings: Settings) -> VoiceInfo:
    """``ref`` if it is one of :func:`list_voices`, without loading it: what an API request may ask for.

    Raises :class:`~neura.errors.EngineUnavailableError` (a voice of an engine that is not installed
    here) or :class:`UnknownVoiceError` (no such voice here), each naming what to do.
    """
    voices = list_voices(settings)
    for voice in voices:
        if voice.id == str(ref):
            return voice
    # Not listed: EngineUnavailableError when its engine is missing here; otherwise unknown, in the
    # list's words (the engine's own may speak of files, and an API client can only pick from the list).
    with contextlib.suppress(UnknownVoiceError):
        TTS.create(ref.engine).check(ref.voice, settings)
    raise UnknownVoiceError(
        f"there is no voice {str(ref)!r} here",
        hint=f"use one of: {', '.join(v.id for v in voices)} (GET /v1/voices lists them)",
    )
