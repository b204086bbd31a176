"""XTTS cannot run here (no weights, no coqui-tts/torch): its errors must say what is missing and how to fix it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from neura.config import Settings
from neura.errors import EngineUnavailableError
from neura.tts import create_tts, list_voices
from neura.tts.xtts import REQUIRED_FILES, XttsEngine, check_xtts


def test_unset_folder() -> None:
    with pytest.raises(EngineUnavailableError, match="XTTS_MODEL_DIR, which is not set") as caught:
        XttsEngine(None, cache_dir=Path("/tmp"))
    assert "config.json" in str(caught.value.hint)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailableError, match="is not a folder"):
        check_xtts(tmp_path / "nowhere")


def test_incomplete_folder_names_the_missing_files(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(EngineUnavailableError, match=r"lacks model\.pth, vocab\.json"):
        check_xtts(tmp_path)


@pytest.mark.skipif(importlib.util.find_spec("TTS") is not None, reason="coqui-tts is installed here")
def test_missing_packages_point_to_the_extra(tmp_path: Path) -> None:
    for name in REQUIRED_FILES:
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(EngineUnavailableError, match="coqui-tts") as caught:
        check_xtts(tmp_path)
    assert "neura[xtts]" in str(caught.value.hint)


def test_registry_reports_the_same_error(tts_cache_dir: Path) -> None:
    settings = Settings(NEURA_CACHE_DIR=tts_cache_dir, TTS_PROVIDER="xtts", XTTS_MODEL_DIR=None)
    with pytest.raises(EngineUnavailableError, match="XTTS_MODEL_DIR"):
        create_tts(None, settings)
    assert not [v for v in list_voices(settings) if v.engine == "xtts"]
