"""The TTS provider table: every engine's name, one line each.

    TTS.add("piper", _piper, "...")     # an engine module with a BaseTTS subclass and a TTSProvider

Adding an engine is one module (its engine class, which writes only its piece synthesis, and its
:class:`~neura.tts.base.TTSProvider`, which knows its voices) and one ``add`` line here. Settings
(``TTS_PROVIDER``), voice references, API schemas and ``--help`` take the names from this table.

This module imports no engine: a factory imports its engine module when called, so reading the names
(as settings validation does) costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neura.providers import ProviderTable

if TYPE_CHECKING:
    from neura.tts.base import TTSProvider

TTS: ProviderTable[TTSProvider] = ProviderTable("tts", setting="TTS_PROVIDER")


def _piper() -> TTSProvider:
    from neura.tts.piper import PROVIDER

    return PROVIDER


def _espeak() -> TTSProvider:
    from neura.tts.espeak import PROVIDER

    return PROVIDER


def _xtts() -> TTSProvider:
    from neura.tts.xtts import PROVIDER

    return PROVIDER


TTS.add("piper", _piper, "Piper neural voices: natural, about 10x faster than real time (bundled)")
TTS.add("espeak", _espeak, "espeak-ng formant voices: robotic, instant, exact timings (bundled)")
TTS.add("xtts", _xtts, "Coqui XTTS v2 voice cloning from local weights (optional)", extra="xtts")
