"""Mp4Writer, checked by decoding what it wrote."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from neura.encode import Mp4Writer, decode_audio, decode_frames, probe, rgb_to_i420
from neura.errors import InputError, OutputError
from tests.encode.conftest import FPS, HEIGHT, TONE_HZ, WIDTH, scene_frames, tone, write_clip


def psnr_db(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / max(mse, 1e-12))


def test_streams_codecs_and_durations(clip: Path) -> None:
    info = probe(clip)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (WIDTH, HEIGHT)
    assert info.fps == pytest.approx(FPS)
    assert info.n_frames == 2 * FPS
    assert info.video_duration_s == pytest.approx(2.0)
    assert abs(info.video_duration_s - info.audio_duration_s) <= 1 / FPS
    assert info.audio_sample_rate_hz == 48000
    assert info.faststart


def test_h264_settings(clip: Path) -> None:
    with av.open(str(clip)) as container:
        ctx = container.streams.video[0].codec_context
        assert ctx.pix_fmt == "yuv420p"
        assert (int(ctx.color_primaries), int(ctx.color_trc), int(ctx.colorspace)) == (1, 1, 1)  # BT.709
        assert container.streams.audio[0].codec_context.profile == "LC"
        keyframes = [p.is_keyframe for p in container.demux(video=0) if p.size]
    assert keyframes[0]


def test_decoded_frames_match_the_input(clip: Path, rgb_frames: list[npt.NDArray[np.uint8]]) -> None:
    decoded = list(decode_frames(clip))
    assert len(decoded) == len(rgb_frames)
    assert [round(t * FPS) for t, _ in decoded] == list(range(len(rgb_frames)))
    for (_, rgb), original in zip(decoded, rgb_frames, strict=True):
        assert psnr_db(rgb, original) > 30
    assert [t for t, _ in decode_frames(clip, every_nth=10)] == pytest.approx([0.0, 0.4, 0.8, 1.2, 1.6])


def test_decoded_audio_keeps_the_tone(clip: Path) -> None:
    samples, rate = decode_audio(clip)
    assert rate == 48000 and len(samples) == 2 * 48000
    middle = samples[4800:-4800]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    peak_hz = np.argmax(spectrum) * rate / len(middle)
    assert peak_hz == pytest.approx(TONE_HZ, abs=2.0)
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


def test_keyframe_every_two_seconds(tmp_path: Path) -> None:
    path = tmp_path / "gop.mp4"
    frames = scene_frames(5 * FPS)
    write_clip(path, frames, tone(5.0), threads=1)
    with av.open(str(path)) as container:
        packets = sorted((p for p in container.demux(video=0) if p.size), key=lambda p: p.pts or 0)
        keyframe_indices = [i for i, p in enumerate(packets) if p.is_keyframe]
    assert keyframe_indices[0] == 0
    assert max(np.diff([*keyframe_indices, len(packets)])) <= 2 * FPS


@pytest.mark.parametrize("audio_s", [0.0, 1.3, 2.0, 3.7])
def test_audio_is_padded_or_trimmed_to_the_video(tmp_path: Path, audio_s: float) -> None:
    path = tmp_path / "av.mp4"
    with Mp4Writer(path, width=64, height=64, fps=FPS) as writer:
        if audio_s:
            writer.write_audio(tone(audio_s, 16000), 16000)  # all audio first, then the frames
        for _ in range(2 * FPS):
            writer.write_frame(np.zeros((64, 64, 3), np.uint8))
    info = probe(path)
    assert info.n_frames == 2 * FPS
    assert abs(info.audio_duration_s - info.video_duration_s) <= 1 / FPS
    samples, rate = decode_audio(path)
    assert abs(len(samples) / rate - 2.0) <= 1 / FPS
    if 0 < audio_s < 2.0:
        assert np.abs(samples[round((audio_s + 0.05) * rate) :]).max() < 0.01  # padded with silence


def test_audio_can_change_rate_and_stays_in_order(tmp_path: Path) -> None:
    path = tmp_path / "rates.mp4"
    with Mp4Writer(path, width=64, height=64, fps=FPS) as writer:
        writer.write_audio(tone(0.5, 22050, 440.0), 22050)
        writer.write_audio(tone(0.5, 16000, 880.0), 16000)
        for _ in range(FPS):
            writer.write_frame(np.zeros((64, 64, 3), np.uint8))
    samples, rate = decode_audio(path)

    def peak_hz(part: npt.NDArray[np.float32]) -> float:
        return float(np.argmax(np.abs(np.fft.rfft(part * np.hanning(len(part))))) * rate / len(part))

    assert peak_hz(samples[round(0.05 * rate) : round(0.45 * rate)]) == pytest.approx(440, abs=3)
    assert peak_hz(samples[round(0.55 * rate) : round(0.95 * rate)]) == pytest.approx(880, abs=3)
    windows = samples[round(0.05 * rate) : round(0.95 * rate)].reshape(-1, round(0.02 * rate))
    assert np.sqrt(np.mean(windows**2, axis=1)).min() > 0.2  # no gap where the rate changed


def test_video_only(tmp_path: Path) -> None:
    path = tmp_path / "silent.mp4"
    with Mp4Writer(path, width=64, height=64, audio_sample_rate_hz=None) as writer:
        for _ in range(10):
            writer.write_frame(np.zeros((64, 64, 3), np.uint8))
        with pytest.raises(InputError):
            writer.write_audio(np.zeros(100, np.float32), 16000)
    info = probe(path)
    assert info.audio_codec is None and info.n_frames == 10 and info.faststart


def test_same_input_gives_identical_bytes(tmp_path: Path, rgb_frames: list[npt.NDArray[np.uint8]]) -> None:
    for threads, thread_type in [(1, "frame"), (2, "frame"), (0, "frame"), (2, "slice")]:
        paths = [tmp_path / f"det-{threads}-{thread_type}-{k}.mp4" for k in range(2)]
        for path in paths:
            write_clip(path, rgb_frames, tone(2.0), threads=threads, thread_type=thread_type)
        assert paths[0].read_bytes() == paths[1].read_bytes(), f"threads={threads} {thread_type}"


def test_abort_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    writer = Mp4Writer(target, width=64, height=64)
    writer.write_frame(np.zeros((64, 64, 3), np.uint8))
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_an_exception_inside_with_leaves_the_old_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    target.write_bytes(b"previous video")
    with pytest.raises(RuntimeError), Mp4Writer(target, width=64, height=64) as writer:
        writer.write_frame(np.zeros((64, 64, 3), np.uint8))
        raise RuntimeError("renderer failed")
    assert target.read_bytes() == b"previous video"
    assert list(tmp_path.iterdir()) == [target]


def test_bad_frames_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="even"):
        Mp4Writer(tmp_path / "odd.mp4", width=63, height=64)
    with Mp4Writer(tmp_path / "x.mp4", width=64, height=64) as writer:
        with pytest.raises(InputError, match="shape"):
            writer.write_frame(np.zeros((64, 64), np.uint8))
        with pytest.raises(InputError, match="uint8"):
            writer.write_frame(np.zeros((64, 64, 3), np.float32))
        writer.write_frame(rgb_to_i420(np.zeros((64, 64, 3), np.uint8)))
    with pytest.raises(InputError, match="No video frames"), Mp4Writer(tmp_path / "empty.mp4", width=64, height=64):
        pass
    assert not (tmp_path / "empty.mp4").exists()


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist") as caught:
        Mp4Writer(tmp_path / "no" / "such" / "out.mp4", width=64, height=64)
    assert caught.value.exit_code == 73 and caught.value.hint


def test_unwritable_folder_is_an_output_error(unwritable_dir: Path) -> None:
    with pytest.raises(OutputError, match="Cannot write the video"):
        Mp4Writer(unwritable_dir / "out.mp4", width=64, height=64)


def test_a_full_disk_is_an_output_error_and_leaves_nothing(tmp_path: Path) -> None:
    """The file size limit (RLIMIT_FSIZE) makes writes fail the way a full disk does."""
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        import numpy as np
        from neura.encode import Mp4Writer
        from neura.errors import OutputError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
        rng = np.random.default_rng(0)
        try:
            with Mp4Writer({str(tmp_path / "full.mp4")!r}, width=128, height=128, threads=1) as writer:
                for _ in range(50):
                    writer.write_frame(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8))
        except OutputError as exc:
            print("OutputError:", exc)
            sys.exit(0)
        sys.exit(1)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Cannot write the video" in result.stdout
    assert list(tmp_path.iterdir()) == []
