"""GPU lease benchmark (issue 10): offline render time at 1080p and 720p, concurrent live sessions, GPU memory.

Prepare here (network, mediapipe): ``bench/gpu_wheels.sh`` (wheels, the avatar and its render assets
into the git-ignored ``bench/.gpu``). On the GPU machine (torch, no PyAV/ffmpeg/aiortc, no network;
carry ``bench/.gpu``)::

    pip install --no-index --find-links bench/.gpu/wheels -r bench/.gpu/requirements.txt
    PYTHONPATH=src python bench/gpu.py

Smoke test on this machine's CPU (tests/render/test_gpu_bench.py)::

    .venv/bin/python bench/gpu.py --device cpu --seconds 5

What it measures, with ``RENDER_BACKEND=torch`` on ``--device``:

* **offline** at 1920x1080 and 1280x720: ``--seconds`` of speech (the espeak voice: a voice model
  would not fit the lease's carry, and the voice is not what is measured) rendered by the torch
  backend, the avatar (frame height square, I420 made on the device) put into the middle of a still
  background (BT.601, as the renderer makes I420 for WebRTC: colours a little off in a BT.709 MP4,
  timing the same), and encoded as an offline render encodes on that machine (:func:`neura.encode.plan.plan_encoding`:
  NVENC where it opens, else parallel x264 segments on many cores) with its AAC track. Wall time from
  the first frame to the closed MP4, and real-time factor. Also the product's own pipeline at 720p
  (``render_video``: voice, presenter layout, subtitles, thumbnail) for the same text.
* **live**: N sessions of 512x512 at 25 fps rendered by one torch renderer (which batches the frames
  of every stream it serves), for N = 1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128 until a round fails: a
  frame later than its 40 ms tick for more than 1 % of frames, or a first-frame p95 (speech pushed
  -> first open-mouth frame rendered) more than 20 ms above one session's. The VP8 encoder's ceiling is
  measured apart (one process per core, 512x512 realtime, as aiortc encodes): ``live_sessions_max``
  is the smaller of the two. No WebRTC transport is involved (no aiortc there).
* **GPU memory** per live session (peak allocated with N sessions over one session's, per session).

The last line is one JSON object: ``render_1080p_60s_s``, ``render_720p_60s_s``, ``live_sessions_max``,
``device`` and the details.
"""

from __future__ import annotations

import argparse
import json
import lzma
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from neura.encode.plan import usable_cores

GPU_DIR = Path(__file__).parent / ".gpu"
FPS = 25
LIVE_SIZE_PX = 512
SIZES = {"1080p": (1920, 1080), "720p": (1280, 720)}
SESSION_STEPS = [1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128]
LATE_FRACTION_MAX = 0.01
FIRST_FRAME_SLACK_MS = 20.0
TEXT = (
    "Twice a day the sea rises and falls along every coast. These tides are driven mostly by the Moon. "
    "Its gravity pulls on the whole Earth, but it pulls hardest on the side facing it, so the ocean there "
    "bulges toward the Moon. On the far side, the Earth itself is pulled away from the water, leaving a "
    "second bulge. As the planet turns, each coast passes through both bulges. "
)


def settings_for(backend: str, device: str, cache_dir: Path) -> Any:
    from neura.config import Settings

    return Settings(  # type: ignore[call-arg]
        RENDER_BACKEND=backend, RENDER_DEVICE=device, TTS_PROVIDER="espeak", NEURA_CACHE_DIR=cache_dir
    )


def avatar_photo(store: Path) -> bytes:
    """The default portrait as JPEG bytes (made once here: scikit-image is not on the GPU machine)."""
    path = store / "avatar.jpg"
    if not path.is_file():
        import cv2

        from neura.pipeline.defaults import demo_avatar

        store.mkdir(parents=True, exist_ok=True)
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(demo_avatar(), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        assert ok
        path.write_bytes(data.tobytes())
    return path.read_bytes()


def load_asset(renderer: Any, size_px: int, store: Path) -> Any:
    """The avatar's render asset at ``size_px``: from ``store/assets`` (made here, where mediapipe
    finds the face; xz-compressed, to fit what a device run carries), else prepared now and stored."""
    path = store / "assets" / f"{renderer.asset_kind}-{size_px}.bin.xz"
    if path.is_file():
        return renderer.load_asset(lzma.decompress(path.read_bytes()))
    from neura.avatar import load_image

    asset = renderer.prepare(load_image(avatar_photo(store), name="avatar.jpg"), size_px=size_px)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lzma.compress(renderer.dump_asset(asset)))
    return asset


def copy_cache(source: Path, target: Path, *, compress: bool) -> None:
    """Copy the pipeline's cache folder, compressing each file (into the store) or decompressing it."""
    for path in source.rglob("*"):
        if path.is_file():
            name = str(path.relative_to(source))
            out = target / (name + ".xz" if compress else name.removesuffix(".xz"))
            out.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            out.write_bytes(lzma.compress(data) if compress else lzma.decompress(data))


def speech(settings: Any, seconds: float) -> tuple[npt.NDArray[np.float32], int, npt.NDArray[np.float32], float]:
    """``seconds`` of narration (the text repeated as needed, then cut): samples, rate, the mouth track
    (one row per frame) and the synthesis time."""
    from neura.lipsync import mouth_track
    from neura.tts import create_tts

    tts = create_tts(None, settings)
    started = time.perf_counter()
    parts, tracks, done_s = [], [], 0.0
    while done_s < seconds:
        for chunk in tts.synthesize(TEXT):
            n_frames = max(1, round(chunk.duration_s * FPS))
            n_samples = round(n_frames * chunk.sample_rate_hz / FPS)
            audio = np.zeros(n_samples, np.float32)
            audio[: min(n_samples, len(chunk.samples))] = chunk.samples[:n_samples]
            parts.append(audio)
            tracks.append(mouth_track(chunk.phonemes, chunk.alphabet, fps=FPS, n_frames=n_frames).values)
            done_s += n_frames / FPS
            rate_hz = chunk.sample_rate_hz
    n_frames = round(seconds * FPS)
    samples = np.concatenate(parts)[: round(seconds * rate_hz)]
    return samples, rate_hz, np.concatenate(tracks)[:n_frames], time.perf_counter() - started


def offline(
    renderer: Any, size: str, seconds: float, voice: tuple[Any, ...], store: Path, folder: Path
) -> dict[str, Any]:
    """Render, compose and encode ``seconds`` of video at ``size`` (see the module's docstring)."""
    from neura.encode import i420_planes, probe, rgb_to_i420
    from neura.encode.plan import open_mp4_writer, plan_encoding
    from neura.render.seam import SpeechTrack

    width, height = SIZES[size]
    samples, rate_hz, mouth, _ = voice
    asset = load_asset(renderer, height, store)
    plan = plan_encoding(encoder="auto", segments="auto", workers=0, segment_s=2.0, expected_duration_s=lambda: seconds)
    background = np.empty((height, width, 3), np.uint8)
    background[:] = np.linspace(40, 90, width, dtype=np.float32)[None, :, None].astype(np.uint8)
    canvas = rgb_to_i420(background)
    left = (width - height) // 2  # even at both sizes: the chroma planes split evenly
    canvas_planes = i420_planes(canvas)
    path = folder / f"offline-{size}.mp4"
    n_frames = len(mouth)
    started = time.perf_counter()
    stream = renderer.stream(asset, fps=FPS, output="i420", batch_frames=16)
    stream.push_speech(SpeechTrack(samples, rate_hz, mouth))
    with open_mp4_writer(path, plan, width=width, height=height, fps=FPS, crf=23, preset="veryfast") as writer:
        writer.write_audio(samples, rate_hz)  # encoded only as far as the video has got
        done = 0
        while done < n_frames:
            for frame in stream.render_next(min(16, n_frames - done)):
                for plane, face in zip(canvas_planes, i420_planes(frame.image), strict=True):
                    x0 = left * plane.shape[1] // width
                    plane[:, x0 : x0 + face.shape[1]] = face
                writer.write_frame(canvas)
            done += min(16, n_frames - done)
    wall_s = time.perf_counter() - started
    stream.close()
    info = probe(path)
    assert info.n_frames == n_frames and abs(info.audio_duration_s - info.video_duration_s) <= 1 / FPS
    return {
        "seconds": round(wall_s, 3),
        "rtf": round(wall_s / seconds, 4),
        "x_real_time": round(seconds / wall_s, 2),
        "codec": plan.codec,
        "encode_workers": plan.workers,
    }


def pipeline_720p(settings: Any, seconds: float, store: Path, folder: Path) -> dict[str, Any]:
    """The product's offline pipeline (voice, layout, subtitles, thumbnail, sidecar) at 720p."""
    from neura.pipeline import RenderRequest, render_video

    words = TEXT.split()
    text = " ".join((words * 20)[: max(8, round(seconds * 2.6))]) + "."
    photo = avatar_photo(store)
    request = RenderRequest(folder / "pipeline.mp4", script_text=text, avatar=photo, resolution="720p")
    render_video(RenderRequest(folder / "warm.mp4", script_text="Warm up.", avatar=photo), settings)
    started = time.perf_counter()
    result = render_video(request, settings)
    wall_s = time.perf_counter() - started
    return {"seconds": round(wall_s, 3), "video_s": result.duration_s, "rtf": round(wall_s / result.duration_s, 4)}


def live_round(renderer: Any, asset: Any, n_sessions: int, seconds: float, device: str) -> dict[str, Any]:
    """``n_sessions`` streams paced at 25 fps for ``seconds``; each session is pushed one second of
    speech every second (staggered), and the time to its first open-mouth frame is recorded."""
    from neura.media import MOUTH_CHANNELS
    from neura.render.seam import SpeechTrack

    mouth = np.zeros((FPS, MOUTH_CHANNELS), np.float32)
    mouth[:, 0] = 0.6
    utterance = SpeechTrack(np.zeros(48_000, np.float32), 48_000, mouth)
    memory = gpu_memory(device, reset=True)
    streams = [renderer.stream(asset, fps=FPS, seed=i, output="i420", batch_frames=1) for i in range(n_sessions)]
    pushed_at: list[float | None] = [None] * n_sessions
    first_frame_ms: list[float] = []
    late = 0
    lock = threading.Lock()

    def tick(i: int, deadline: float) -> bool:
        frame = streams[i].render_next(1)[0]
        with lock:
            if pushed_at[i] is not None and frame.mouth[0] > 0.05:
                first_frame_ms.append((time.perf_counter() - pushed_at[i]) * 1000)
                pushed_at[i] = None
        return time.perf_counter() > deadline

    n_ticks = round(seconds * FPS)
    with ThreadPoolExecutor(n_sessions) as pool:
        start = time.perf_counter()
        for k in range(n_ticks):
            due = start + k / FPS
            time.sleep(max(0.0, due - time.perf_counter()))
            for i in range(n_sessions):
                if k % FPS == 5 + (7 * i) % (FPS - 5):  # once a second, sessions staggered, not at the start
                    streams[i].push_speech(utterance)
                    pushed_at[i] = time.perf_counter()
            late += sum(pool.map(tick, range(n_sessions), [due + 1 / FPS] * n_sessions))
    peak = gpu_memory(device)
    for stream in streams:
        stream.close()
    first = sorted(first_frame_ms)
    return {
        "sessions": n_sessions,
        "late_fraction": round(late / (n_ticks * n_sessions), 4),
        "first_frame_p50_ms": round(statistics.median(first), 1) if first else None,
        "first_frame_p95_ms": round(first[min(len(first) - 1, int(0.95 * len(first)))], 1) if first else None,
        "gpu_memory_mb": round((peak - memory) / 1e6, 1) if peak is not None and memory is not None else None,
    }


def gpu_memory(device: str, *, reset: bool = False) -> int | None:
    """Peak bytes torch has allocated on a CUDA ``device`` since the last reset (None on the CPU)."""
    if not device.startswith("cuda"):
        return None
    import torch

    if reset:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return int(torch.cuda.memory_allocated())
    torch.cuda.synchronize()
    return int(torch.cuda.max_memory_allocated())


def vp8_fps(n_frames: int) -> float:
    """Frames per second one process encodes as VP8 at 512x512 on one thread, with aiortc 1.16's
    settings (aiortc/codecs/vpx.py: CBR at its default 500 kbit/s, realtime, cpu-used -6)."""
    import av

    from neura.encode.floor import synthetic_frames
    from neura.encode.yuv import rgb_to_i420

    frames = [rgb_to_i420(f) for f in synthetic_frames(LIVE_SIZE_PX, LIVE_SIZE_PX, 25)]
    bitrate = "500000"
    ctx: Any = av.CodecContext.create("libvpx", "w")
    ctx.width = ctx.height = LIVE_SIZE_PX
    ctx.pix_fmt, ctx.bit_rate, ctx.gop_size, ctx.qmin, ctx.qmax = "yuv420p", int(bitrate), 3000, 2, 56
    ctx.thread_count = 1
    ctx.options = {
        "bufsize": bitrate, "cpu-used": "-6", "deadline": "realtime", "lag-in-frames": "0", "minrate": bitrate,
        "maxrate": bitrate, "noise-sensitivity": "4", "overshoot-pct": "15", "partitions": "0",
        "static-thresh": "1", "undershoot-pct": "100",
    }  # fmt: skip
    ctx.open()
    started = time.perf_counter()
    for i in range(n_frames):
        frame = av.VideoFrame.from_ndarray(frames[i % len(frames)], format="yuv420p")
        frame.pts = i
        ctx.encode(frame)
    return n_frames / (time.perf_counter() - started)


def vp8_ceiling(n_frames: int) -> dict[str, Any]:
    cores = usable_cores()
    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("spawn")) as pool:
        per_process = list(pool.map(vp8_fps, [n_frames] * cores))
    total = sum(per_process)
    return {"processes": cores, "fps_total": round(total, 1), "sessions": int(total // FPS)}


def live(renderer: Any, seconds: float, device: str, max_sessions: int, store: Path) -> dict[str, Any]:
    asset = load_asset(renderer, LIVE_SIZE_PX, store)
    rounds = []
    passed = 0
    baseline_p95: float | None = None
    for n in [s for s in SESSION_STEPS if s <= max_sessions]:
        row = live_round(renderer, asset, n, seconds, device)
        p95 = row["first_frame_p95_ms"]
        baseline_p95 = p95 if baseline_p95 is None else baseline_p95
        ok = row["late_fraction"] <= LATE_FRACTION_MAX and (
            p95 is not None and baseline_p95 is not None and p95 <= baseline_p95 + FIRST_FRAME_SLACK_MS
        )
        rounds.append({**row, "ok": ok})
        print(f"live: {json.dumps(rounds[-1])}", flush=True)
        if not ok:
            break
        passed = n
    memory = [r["gpu_memory_mb"] / r["sessions"] for r in rounds if r["gpu_memory_mb"] is not None]
    return {"render_sessions": passed, "rounds": rounds, "gpu_memory_per_session_mb": max(memory) if memory else None}


def describe(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, {usable_cores()} cores"
    return f"CPU ({platform.processor() or platform.machine()}), torch {torch.__version__}, {usable_cores()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="RENDER_DEVICE: cuda, cuda:1, cpu")
    parser.add_argument("--backend", default="torch", help="RENDER_BACKEND (cpu: the CPU warp, to compare)")
    parser.add_argument("--seconds", type=float, default=60.0, help="offline video length")
    parser.add_argument("--live-seconds", type=float, default=4.0, help="length of one live round")
    parser.add_argument("--max-sessions", type=int, default=128, help="stop the live ramp here")
    parser.add_argument("--prepare", action="store_true", help="only make the avatar and its assets in --store")
    parser.add_argument("--store", type=Path, default=GPU_DIR, help="where the avatar and its assets are kept")
    args = parser.parse_args()
    store: Path = args.store
    from neura.render.providers import create_renderer

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cache = folder / "cache"
        if args.prepare:  # with the CPU warp here: its assets ("rig") are the torch warp's too
            renderer = create_renderer(settings_for("cpu", "cpu", cache))
            for size_px in [LIVE_SIZE_PX, *(h for _, h in SIZES.values())]:
                load_asset(renderer, size_px, store)
            pipeline_720p(settings_for("cpu", "cpu", cache), 2.0, store, folder)  # builds the 720p layout's asset
            copy_cache(cache, store / "cache", compress=True)
            print(f"prepared {store}")
            return 0
        copy_cache(store / "cache", cache, compress=False)
        settings = settings_for(args.backend, args.device, cache)
        renderer = create_renderer(settings)
        voice = speech(settings, args.seconds)
        print(f"voice: {args.seconds:.0f} s synthesised in {voice[3]:.2f} s (espeak)", flush=True)
        results = {size: offline(renderer, size, args.seconds, voice, store, folder) for size in SIZES}
        for size, row in results.items():
            print(f"offline {size}: {json.dumps(row)}", flush=True)
        pipeline = pipeline_720p(settings, args.seconds, store, folder)
        print(f"pipeline 720p: {json.dumps(pipeline)}", flush=True)
    live_render = live(renderer, args.live_seconds, args.device, args.max_sessions, store)
    ceiling = vp8_ceiling(250)
    print(f"vp8 ceiling: {json.dumps(ceiling)}", flush=True)
    summary = {
        "render_1080p_60s_s": results["1080p"]["seconds"] * 60.0 / args.seconds,
        "render_720p_60s_s": results["720p"]["seconds"] * 60.0 / args.seconds,
        "live_sessions_max": min(live_render["render_sessions"], ceiling["sessions"]),
        "device": describe(args.device),
        "seconds": args.seconds,
        "offline": results,
        "pipeline_720p": pipeline,
        "live": live_render,
        "vp8": ceiling,
        "load_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
