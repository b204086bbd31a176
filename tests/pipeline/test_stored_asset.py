"""Offline renders reuse the renderer asset stored with an avatar (as the worker passes it) instead of
rebuilding it from the photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neura.config import Settings
from neura.encode.probe import decode_frames
from neura.errors import InputError
from neura.pipeline import RenderRequest, render_video
from neura.pipeline.defaults import demo_avatar
from neura.render.providers import create_renderer
from tests.portraits import hopper


def test_a_render_draws_the_stored_asset_and_builds_nothing(tmp_path: Path) -> None:
    settings = Settings(NEURA_CACHE_DIR=tmp_path / "cache")  # type: ignore[call-arg]
    renderer = create_renderer(settings)
    stored = renderer.dump_asset(renderer.prepare(hopper(), size_px=512))  # what the upload stored
    asset = renderer.load_asset(stored)  # what the worker loads
    request = RenderRequest(
        tmp_path / "out" / "grace.mp4",
        script_text="Hello there.",
        resolution="512",
        avatar_asset=asset,
        avatar_name="Grace",
    )
    request.output_path.parent.mkdir()
    result = render_video(request, settings)
    assert result.sidecar["avatar"] == {"source": "Grace", "size_px": 512, "cached_rig": True}
    assert not (settings.cache_dir / "assets").exists()  # no photo was prepared, so nothing was cached
    _, first = next(decode_frames(result.output_path))
    outside = np.ones(first.shape[:2], bool)
    x0, y0, x1, y1 = asset.roi
    outside[y0:y1, x0:x1] = False
    error = np.abs(first.astype(np.int16) - asset.image)[outside].mean()
    assert error < 4, "the video shows the stored avatar (its static part, through x264)"
    demo = renderer.prepare(demo_avatar(), size_px=512).image
    assert np.abs(first.astype(np.int16) - demo)[outside].mean() > 5 * error


def test_an_asset_of_another_size_is_refused_before_any_work(tmp_path: Path, settings: Settings) -> None:
    renderer = create_renderer(settings)
    asset = renderer.prepare(hopper(), size_px=256)
    with pytest.raises(InputError, match="256 px"):
        render_video(
            RenderRequest(tmp_path / "x.mp4", script_text="Hi.", resolution="512", avatar_asset=asset), settings
        )
    assert list(tmp_path.iterdir()) == []
