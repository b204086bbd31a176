"""Choosing a speech recognition engine: ``create_stt`` (a loaded engine is kept per process; the
provider names are in :mod:`neura.stt.providers`) and ``list_stt_models``.

``settings.stt_provider`` picks the provider (``whisper``, the only one so far) and ``settings.stt_model``
its default model; a request or the CLI may name another model (``model=``). Importing this module
loads no engine: each factory imports its packages when it is first chosen.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from neura.errors import InputError
from neura.stt.base import STTEngine, STTModelInfo
from neura.stt.providers import STT

if TYPE_CHECKING:
    from neura.config import Settings

OPENAI_MODEL_ALIASES = frozenset({"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "default"})
"""Model names of OpenAI's API: each means the configured model (``STT_MODEL``)."""


_engines: dict[tuple[str, ...], STTEngine] = {}
_lock = threading.Lock()


def resolve_model(settings: Settings, model: str | None) -> str:
    """The model a request means: ``None`` and OpenAI's names are the configured one."""
    name = (model or "").strip()
    return settings.stt_model if not name or name.lower() in OPENAI_MODEL_ALIASES else name


class UnknownSTTModelError(InputError):
    """A model name that is neither packaged for NEURA nor in STT_MODEL_DIR."""


def check_model_name(settings: Settings, model: str | None) -> str:
    """The model a request means (see :func:`resolve_model`), or :class:`UnknownSTTModelError` (422)
    for a name NEURA does not know. A known model that is not installed here is left to
    :func:`create_stt` (503, with what to install)."""
    from neura.stt.models import PACKAGED

    name = resolve_model(settings, model)
    known = {m.name for m in list_stt_models(settings)} | set(PACKAGED)
    if name not in known:
        raise UnknownSTTModelError(
            f"there is no speech recognition model {name!r}",
            hint=f"use 'whisper-1' (the configured {settings.stt_model!r}) or one of: {', '.join(sorted(known))}",
        )
    return name


def create_stt(
    settings: Settings, model: str | None = None, *, provider: str | None = None, threads: int = 2
) -> STTEngine:
    """The engine for ``model`` (default ``settings.stt_model``), loaded once per process and reused.

    ``threads``: CPU threads for one decode. Raises :class:`~neura.providers.UnknownProviderError`
    (422/65) for a provider name that does not exist and :class:`~neura.errors.EngineUnavailableError`
    (503/69) when the model is not installed here, naming what to install.
    """
    name = (provider or settings.stt_provider).strip().lower()
    chosen = resolve_model(settings, model)
    key = (name, chosen, str(settings.stt_model_dir), str(threads))
    with _lock:  # one load at a time: a second caller waits for the first one's engine
        if key not in _engines:
            _engines[key] = STT.create(name, settings, chosen, threads)
        return _engines[key]


def clear_stt_cache() -> None:
    """Forget loaded engines (tests; freeing memory)."""
    with _lock:
        _engines.clear()


def list_stt_models(settings: Settings) -> list[STTModelInfo]:
    """Speech recognition models usable here, without loading any."""
    from neura.stt.models import list_models

    return list_models(settings.stt_model_dir)
