"""Choosing a TTS engine by name: ``create_tts`` (loaded engines are kept per process) and ``list_voices``.

``settings.tts_provider`` is the default engine. The voice is the ``voice`` argument, else
``settings.tts_voice``: for piper the bundled voice's name ("en_US-joe-medium") or a Piper ``.onnx``
path; for espeak an espeak-ng voice ("en-us", "en-gb"); for xtts a built-in speaker name or a ``.wav``
to clone. ``settings.tts_voice`` applies to the configured engine, and to another engine only when it
is clearly one of that engine's voices (so "en-gb" reaches espeak even while piper is configured).
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

from neura.config import Settings
from neura.errors import EngineUnavailableError
from neura.tts.base import TTSEngine, VoiceInfo

ENGINE_NAMES = ("piper", "espeak", "xtts")

_engines: dict[tuple[str, ...], TTSEngine] = {}
_lock = threading.Lock()


BUNDLED_PIPER_VOICE = "en_US-joe-medium"
_DEFAULT_VOICES = {"piper": BUNDLED_PIPER_VOICE, "espeak": "en-us"}
_ESPEAK_VOICE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]+)*")


def _belongs_to(engine: str, voice: str) -> bool:
    if engine == "piper":
        return voice == BUNDLED_PIPER_VOICE or voice.endswith(".onnx")
    if engine == "espeak":
        return _ESPEAK_VOICE.fullmatch(voice) is not None
    return voice.endswith(".wav")


def _voice_for(engine: str, settings: Settings) -> str:
    voice = settings.tts_voice.strip()
    return voice if engine == settings.tts_provider or _belongs_to(engine, voice) else ""


def _build(engine: str, voice: str, settings: Settings, threads: int) -> TTSEngine:
    if engine == "piper":
        from neura.tts.piper import PiperEngine

        if voice in ("", BUNDLED_PIPER_VOICE):
            return PiperEngine(cache_dir=settings.cache_dir, threads=threads)
        if not voice.endswith(".onnx"):
            raise EngineUnavailableError(
                f"There is no Piper voice {voice!r}.",
                hint=f"Use {BUNDLED_PIPER_VOICE!r} (bundled) or the path of a Piper .onnx voice (TTS_VOICE).",
            )
        return PiperEngine(cache_dir=settings.cache_dir, model_path=Path(voice), threads=threads)
    if engine == "espeak":
        from neura.tts.espeak import DEFAULT_VOICE, EspeakEngine

        return EspeakEngine(voice or DEFAULT_VOICE, cache_dir=settings.cache_dir)
    if engine == "xtts":
        from neura.tts.xtts import XttsEngine

        return XttsEngine(settings.xtts_model_dir, cache_dir=settings.cache_dir, voice=voice)
    raise EngineUnavailableError(
        f"There is no TTS engine named {engine!r}.", hint=f"Choose one of {', '.join(ENGINE_NAMES)} (TTS_PROVIDER)."
    )


def create_tts(name: str | None, settings: Settings, *, threads: int = 1, voice: str | None = None) -> TTSEngine:
    """The engine ``name`` (default ``settings.tts_provider``), loaded once per process and reused.

    ``voice``: that engine's voice (default: from ``settings.tts_voice``, see the module docstring).
    ``threads``: CPU threads for engines that use several (Piper); 1 leaves the other core to rendering.
    Raises :class:`EngineUnavailableError` when the engine or its voice cannot be loaded here.
    """
    engine = (name or settings.tts_provider).strip().lower()
    voice = voice.strip() if voice is not None else _voice_for(engine, settings)
    voice = _DEFAULT_VOICES.get(engine, "") if voice == "" else voice  # one key for "the default voice"
    key = (engine, voice, str(settings.cache_dir), str(settings.xtts_model_dir), str(threads))
    with _lock:  # one load at a time: a second caller waits for the first one's engine
        if key not in _engines:
            _engines[key] = _build(engine, voice, settings, threads)
        return _engines[key]


def clear_engine_cache() -> None:
    """Forget loaded engines (tests; freeing memory)."""
    with _lock:
        _engines.clear()


def list_voices(settings: Settings) -> list[VoiceInfo]:
    """Voices usable here, without loading any model (XTTS only when its folder and packages are present)."""
    from neura.tts.espeak import espeak_voice_info
    from neura.tts.piper import bundled_voice_paths, piper_voice_info
    from neura.tts.xtts import check_xtts, xtts_voice_info

    voices: list[VoiceInfo] = []
    piper_models: list[tuple[Path, Path, bool]] = []
    try:
        model, config = bundled_voice_paths()
        piper_models.append((model, config, True))
    except EngineUnavailableError:
        pass  # the bundled voice is not installed: nothing to list
    custom = _voice_for("piper", settings)
    if custom.endswith(".onnx") and Path(custom).is_file():
        piper_models.append((Path(custom), Path(custom + ".json"), False))
    for model, config, bundled in piper_models:
        try:
            voices.append(piper_voice_info(model, json.loads(config.read_text(encoding="utf-8")), bundled))
        except (OSError, ValueError):
            continue  # unreadable config: create_tts will say why
    voices += [espeak_voice_info("en-us"), espeak_voice_info("en-gb")]
    try:
        check_xtts(settings.xtts_model_dir)
        voices.append(xtts_voice_info(_voice_for("xtts", settings)))
    except EngineUnavailableError:
        pass  # not installed here: create_tts("xtts") explains what is missing
    return voices
