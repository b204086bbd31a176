"""Speaking rate of a voice (words per second), measured once and cached on disk.

The script engine sizes a script to a requested duration with it. The rate is words divided by the
audio the voice makes for a fixed calibration paragraph (its own pauses at commas and sentence ends
included, the pipeline's pauses between sentences not).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path

from neura.tts.base import TTSEngine

_LOGGER = logging.getLogger(__name__)

CALIBRATION_VERSION = 1
CALIBRATION_TEXT = (
    "Welcome to the show. Today we are going to talk about something that matters to all of us: "
    "how we learn new things, and why some ideas stay with us while others fade away. "
    "Think back to a teacher you remember, and ask yourself what made their lessons different. "
    "Was it the stories they told, the questions they asked, or simply the way they listened?"
)
RATES_FILE = "tts_speaking_rates.json"

_lock = threading.Lock()
_memory: dict[tuple[str, str], float] = {}


def measure_rate_wps(engine: TTSEngine) -> float:
    """Synthesise the calibration paragraph and return spoken words per second of audio."""
    words, duration_s = 0, 0.0
    for chunk in engine.synthesize(CALIBRATION_TEXT):
        words += len(chunk.words)
        duration_s += chunk.duration_s
    if duration_s <= 0:
        raise RuntimeError(f"{engine.voice.id} produced no audio for the calibration paragraph")
    return words / duration_s


def _read(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        _LOGGER.warning("Ignoring unreadable speaking-rate cache %s: %s", path, error)
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))} if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2, sort_keys=True)
    os.replace(temporary, path)


def cached_rate_wps(engine: TTSEngine, cache_dir: Path, engine_version: str) -> float:
    """The engine's rate from memory, else from ``cache_dir``/tts_speaking_rates.json, else measured
    (and stored). Keyed by voice id, engine version and calibration version."""
    key = f"{engine.voice.id}|{engine_version}|calibration-v{CALIBRATION_VERSION}"
    path = Path(cache_dir) / RATES_FILE
    with _lock:
        if (str(path), key) in _memory:
            return _memory[(str(path), key)]
        stored = _read(path)
        if key not in stored:
            stored = {**_read(path), key: round(measure_rate_wps(engine), 4)}
            try:
                _write(path, stored)
            except OSError as error:
                _LOGGER.warning("Cannot store the speaking rate in %s: %s", path, error)
        _memory[(str(path), key)] = stored[key]
        return stored[key]
