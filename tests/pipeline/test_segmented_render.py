"""A render encoded in parallel segments (ENCODE_SEGMENTS=on) is the same video as one encoded in one
process: the same frames and audio, the same probe results, a keyframe at every segment start."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from neura.config import Settings
from neura.encode import decode_audio, decode_frames, probe
from neura.errors import CancelledError
from neura.pipeline import RenderRequest, RenderResult, render_video
from neura.pipeline.control import CancelToken
from tests.encode.test_mp4 import psnr_db
from tests.encode.test_segments import shared_memory_names
from tests.pipeline.conftest import SHORT_SCRIPT, files_in

FPS = 25


@pytest.fixture(scope="module")
def segmented_render(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> RenderResult:
    segmented = settings.model_copy(update={"encode_segments": "on", "encode_workers": 2, "encode_segment_s": 2.0})
    out = tmp_path_factory.mktemp("segmented") / "square.mp4"
    return render_video(RenderRequest(output_path=out, script_text=SHORT_SCRIPT, resolution="512"), segmented)


def test_segmented_render_probes_like_a_normal_one(segmented_render: RenderResult) -> None:
    path = segmented_render.output_path
    info = probe(path)
    assert (info.video_codec, info.audio_codec, info.width, info.height) == ("h264", "aac", 512, 512)
    assert info.n_frames == segmented_render.n_frames > 150  # more than three 2-second segments
    assert info.fps == pytest.approx(FPS) and info.faststart
    assert abs(info.audio_duration_s - info.video_duration_s) <= 1 / FPS
    times = [t for t, _ in decode_frames(path)]
    assert len(times) == segmented_render.n_frames
    assert np.diff(times) == pytest.approx(1 / FPS)  # continuous pts across every seam
    with av.open(str(path)) as container:
        packets = sorted((p for p in container.demux(video=0) if p.size), key=lambda p: p.pts or 0)
    keyframes = {i for i, p in enumerate(packets) if p.is_keyframe}
    assert set(range(0, len(packets), 2 * FPS)) <= keyframes
    assert files_in(path.parent) == ["square.jpg", "square.json", "square.mp4", "square.srt", "square.vtt"]


def test_segmented_render_has_the_frames_and_audio_of_a_normal_one(
    segmented_render: RenderResult, square_render: RenderResult
) -> None:
    assert segmented_render.n_frames == square_render.n_frames
    normal = decode_frames(square_render.output_path, every_nth=7)
    for (t_a, a), (t_b, b) in zip(decode_frames(segmented_render.output_path, every_nth=7), normal, strict=True):
        assert t_a == pytest.approx(t_b)
        assert psnr_db(a, b) > 35
    audio_a, rate_a = decode_audio(segmented_render.output_path)
    audio_b, rate_b = decode_audio(square_render.output_path)
    assert rate_a == rate_b and len(audio_a) == len(audio_b)
    assert np.abs(audio_a - audio_b).max() < 1e-3  # one AAC track, encoded the same way


def test_a_cancelled_segmented_render_leaves_nothing(tmp_path: Path, settings: Settings) -> None:
    """Cancelled with segments at the workers and one half filled: no MP4, part, segment or slot left."""
    segmented = settings.model_copy(update={"encode_segments": "on", "encode_workers": 2})
    cancel = CancelToken()

    def progress(stage: str, fraction: float, message: str = "") -> None:
        if stage == "render" and fraction > 0.5:
            cancel.cancel()

    before = shared_memory_names()
    with pytest.raises(CancelledError):
        request = RenderRequest(tmp_path / "out.mp4", script_text=SHORT_SCRIPT, resolution="512")
        render_video(request, segmented, progress=progress, cancel=cancel)
    assert files_in(tmp_path) == []
    assert shared_memory_names() <= before
