"""Renders shared by the pipeline tests: made once per session, decoded back by each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from neura.config import Settings
from neura.pipeline import RenderRequest, RenderResult, render_video

SHORT_SCRIPT = """# Two scenes

Hello there. My name is Nora, and I will show you how this works.

Bright ideas grow from simple questions. Thank you for watching!
"""


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(NEURA_CACHE_DIR=tmp_path_factory.mktemp("cache"))  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def square_render(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[RenderResult]:
    out = tmp_path_factory.mktemp("render") / "square.mp4"
    yield render_video(RenderRequest(output_path=out, script_text=SHORT_SCRIPT, resolution="512"), settings)


@pytest.fixture(scope="session")
def presenter_render(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[RenderResult]:
    out = tmp_path_factory.mktemp("render") / "presenter.mp4"
    request = RenderRequest(output_path=out, script_text=SHORT_SCRIPT, resolution="720p", burn_captions=True)
    yield render_video(request, settings)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())
