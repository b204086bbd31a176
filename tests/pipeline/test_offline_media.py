"""The offline render, checked by decoding the MP4 it wrote."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from neura.avatar import build_avatar, detect_faces
from neura.avatar import landmarks as lm
from neura.encode import decode_audio, decode_frames, probe
from neura.pipeline import RenderResult
from neura.pipeline.defaults import demo_avatar
from neura.render import Layout

FPS = 25


def mouth_gap_ratio(rgb: np.ndarray) -> float:
    """Inner-lip gap over mouth width, measured by running the face landmarker on a frame."""
    landmarks = detect_faces(rgb).landmarks
    gap = np.linalg.norm(landmarks[13] - landmarks[14])
    width = np.linalg.norm(landmarks[61] - landmarks[291])
    return float(gap / width)


def test_mp4_is_h264_aac_25fps_with_equal_durations(square_render: RenderResult) -> None:
    info = probe(square_render.output_path)
    assert info.video_codec == "h264"
    assert info.audio_codec == "aac"
    assert info.width == 512 and info.height == 512
    assert info.fps == pytest.approx(FPS)
    assert info.n_frames == square_render.n_frames
    assert abs(info.video_duration_s - info.audio_duration_s) <= 1 / FPS
    assert info.faststart


def test_presenter_layout_is_1280x720(presenter_render: RenderResult) -> None:
    info = probe(presenter_render.output_path)
    assert (info.width, info.height) == (1280, 720)
    assert abs(info.video_duration_s - info.audio_duration_s) <= 1 / FPS


def test_side_files_are_written(square_render: RenderResult) -> None:
    paths = square_render
    assert paths.srt_path is not None and paths.srt_path.read_text().startswith("1\n")
    assert "Nora," in paths.srt_path.read_text(), "subtitles show the words as written, punctuation included"
    assert paths.vtt_path is not None and paths.vtt_path.read_text().startswith("WEBVTT")
    assert paths.thumbnail_path is not None and paths.thumbnail_path.read_bytes()[:2] == b"\xff\xd8"
    assert paths.sidecar_path is not None
    sidecar = json.loads(paths.sidecar_path.read_text())
    assert sidecar["output"]["n_frames"] == square_render.n_frames
    assert sidecar["script"]["title"] == "Two scenes"
    assert [w[0].lower().strip(".,!") for w in sidecar["words"][:3]] == ["hello", "there", "my"]
    assert len(sidecar["mouth_track"]["values"]) == square_render.n_frames
    assert {"script", "avatar", "render"} <= set(sidecar["timings_s"])
    licences = {m["name"]: m["license"] for m in sidecar["models"]}
    assert any("GPL" in v for k, v in licences.items() if k.startswith("Piper"))


def test_mouth_opens_in_speech_and_closes_in_silence(square_render: RenderResult) -> None:
    sidecar = json.loads(square_render.sidecar_path.read_text())  # type: ignore[union-attr]
    words = [(s, e) for _, s, e in sidecar["words"]]
    gaps = {round(t * FPS): mouth_gap_ratio(rgb) for t, rgb in decode_frames(square_render.output_path)}

    def speaking(frame: int) -> bool:
        t = frame / FPS
        return any(s + 0.04 <= t <= e - 0.04 for s, e in words)

    def silent(frame: int) -> bool:
        t = frame / FPS
        return all(t < s - 0.2 or t > e + 0.2 for s, e in words)

    speech = [g for f, g in gaps.items() if speaking(f)]
    silence = [g for f, g in gaps.items() if silent(f)]
    assert len(speech) > 50 and len(silence) > 10
    assert np.percentile(speech, 75) > 0.15, "the mouth should open clearly while speaking"
    assert np.median(silence) < 0.05 and np.percentile(silence, 90) < 0.08, "the mouth should close in silence"


def test_mouth_motion_follows_the_audio_within_one_frame(square_render: RenderResult) -> None:
    samples, rate = decode_audio(square_render.output_path)
    per_frame = rate // FPS
    n = len(samples) // per_frame
    energy = np.sqrt(np.mean(samples[: n * per_frame].reshape(n, per_frame) ** 2, axis=1))
    gaps = np.array([mouth_gap_ratio(rgb) for _, rgb in decode_frames(square_render.output_path)])[:n]
    energy = (energy - energy.mean()) / energy.std()
    gaps = (gaps - gaps.mean()) / gaps.std()
    lags = range(-5, 6)
    corr = [float(np.mean(np.roll(gaps, lag)[5:-5] * energy[5:-5])) for lag in lags]
    best_lag = list(lags)[int(np.argmax(corr))]
    assert max(corr) > 0.4, "mouth opening should track speech energy"
    assert abs(best_lag) <= 1, f"mouth and audio are {best_lag} frames apart"


def test_pixels_away_from_the_face_do_not_change(square_render: RenderResult) -> None:
    frames = [rgb for _, rgb in decode_frames(square_render.output_path, every_nth=10)]
    stack = np.stack(frames).astype(np.int16)
    # The 512 layout shows the head-and-shoulders crop: the top corners are background.
    corner = np.abs(stack[:, :60, :60] - stack[0, :60, :60])
    # only H.264 quantisation noise is allowed there (a few levels on a few pixels)
    assert corner.mean() < 1.0 and np.percentile(corner, 99) <= 6, "background pixels must not move"
    face = stack[:, 180:330, 180:330]
    assert np.abs(face - face[0]).mean() > 1.0, "the face must not look frozen"


def test_rendering_is_deterministic(square_render: RenderResult, tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    from neura.pipeline import RenderRequest, render_video

    from .conftest import SHORT_SCRIPT

    again = render_video(
        RenderRequest(output_path=tmp_path / "again.mp4", script_text=SHORT_SCRIPT, resolution="512"),
        settings,
    )
    assert again.output_path.read_bytes() == square_render.output_path.read_bytes()


def test_thumbnail_is_a_neutral_face_with_open_eyes(presenter_render: RenderResult) -> None:
    assert presenter_render.thumbnail_path is not None
    thumb = np.asarray(Image.open(presenter_render.thumbnail_path).convert("RGB"))
    layout = Layout.presenter_720p()
    scale = thumb.shape[1] / layout.width
    x0, y0, x1, y1 = (round(v * scale) for v in layout.avatar_rect)
    pts = detect_faces(np.ascontiguousarray(thumb[y0:y1, x0:x1]), min_face_px=0).landmarks / np.float32(scale)
    rest = build_avatar(demo_avatar(), size_px=layout.avatar_size_px).landmarks  # the photo, at rest
    print(
        f"\nthumbnail: gap/width {lm.mouth_gap_ratio(pts):.3f}, eyes {lm.eyes_aspect_ratio(pts):.3f} "
        f"(photo {lm.eyes_aspect_ratio(rest):.3f}), mouth width {lm.mouth_width_px(pts) / lm.mouth_width_px(rest):.3f}"
    )
    assert lm.mouth_gap_ratio(pts) < 0.05  # closed
    assert lm.eyes_aspect_ratio(pts) > 0.8 * lm.eyes_aspect_ratio(rest)  # open
    assert 0.93 < lm.mouth_width_px(pts) / lm.mouth_width_px(rest) < 1.07  # neither rounded nor spread


def test_burned_captions_stay_off_the_portrait_card(presenter_render: RenderResult) -> None:
    """With subtitles on, the 720p layout shows them in the side column, never over the portrait."""
    layout = Layout.presenter_720p()
    x0, y0, x1, y1 = layout.avatar_rect
    frames = [rgb for _, rgb in decode_frames(presenter_render.output_path, every_nth=12)]
    stack = np.stack(frames).astype(np.int16)
    lower_card = stack[:, y1 - 120 : y1 - 8, x0 + 8 : x1 - 8]  # where subtitles used to be drawn
    assert np.percentile(np.abs(lower_card - lower_card[0]), 99) <= 12
    side = stack[:, y0 + 140 : y1 - 30, x1 + 60 :]
    assert max(float(np.abs(side[i] - side[0]).mean()) for i in range(len(side))) > 3  # the captions change there
