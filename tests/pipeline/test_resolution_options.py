"""Options that do nothing at a resolution say so: ``--background`` at 512 (the portrait fills the frame)
is a warning on the result and in the sidecar, not a silent no-op."""

from __future__ import annotations

import json
from pathlib import Path

from neura.config import Settings
from neura.pipeline import RenderRequest, render_video
from neura.pipeline.stages import BACKGROUND_UNUSED, prepare_layout


def test_a_background_at_512_is_a_warning_in_the_result_and_the_sidecar(tmp_path: Path, settings: Settings) -> None:
    request = RenderRequest(
        output_path=tmp_path / "square.mp4", script_text="Hello there.", resolution="512", background="#0f172a"
    )
    result = render_video(request, settings)
    assert BACKGROUND_UNUSED in result.warnings
    assert result.sidecar_path is not None
    assert BACKGROUND_UNUSED in json.loads(result.sidecar_path.read_text())["warnings"]


def test_a_background_at_720p_is_used_without_a_warning() -> None:
    layout, _, warnings = prepare_layout(
        RenderRequest(output_path=Path("x.mp4"), resolution="720p", background="#0f172a"), 1280, 720
    )
    assert warnings == []
    corner = [int(c) for c in layout.background[5, 5]]
    assert all(abs(a - b) <= 2 for a, b in zip(corner, (0x0F, 0x17, 0x2A), strict=True))  # the colour asked for


def test_no_background_at_512_is_no_warning() -> None:
    _, _, warnings = prepare_layout(RenderRequest(output_path=Path("x.mp4"), resolution="512"), 512, 512)
    assert warnings == []
