"""Segmented encoding against one process: 60 s of 1280x720 on this machine.

    .venv/bin/python bench/encode_segments.py [--seconds 60] [--workers N] [--render]

Encode only (the default): the same frames (a talking-head-like scene, I420 as the renderer hands
them over, 25 fps, with a tone as audio) go through the writer an offline render would use without
segments (:class:`~neura.encode.background.BackgroundMp4Writer`, x264's automatic threads) and through
:class:`~neura.encode.segments.SegmentedMp4Writer` (one x264 thread per worker process, 2-second
segments), both with the render's x264 settings. ``--render`` also times whole renders of the
60-second narration of ``bench/render.py`` with ``ENCODE_SEGMENTS=off`` and ``on``.

The machine's cores and load average are printed; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from neura.encode import probe, rgb_to_i420
from neura.encode.floor import synthetic_frames
from neura.encode.plan import EncodePlan, open_mp4_writer, usable_cores

# The segment workers start by importing this script (multiprocessing's "spawn"): the pipeline and
# bench/render.py (for its script) are imported inside the functions that need them, not here.
WIDTH, HEIGHT, FPS = 1280, 720, 25
X264_OPTIONS = {"crf": 23, "preset": "veryfast", "threads": 0}  # the render's (neura.pipeline.offline)


def cpu_s() -> float:
    """CPU time of this process and of its finished children (the segment workers, once shut down)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def encode(plan: EncodePlan, frames: list[Any], n_frames: int, folder: Path) -> dict[str, float]:
    """Wall and CPU time of ``n_frames`` (cycling through ``frames``) and a tone through the plan's
    writer. CPU time is what other load on the machine disturbs least."""
    path = folder / f"encode-{plan.workers}.mp4"
    tone = (0.1 * np.sin(2 * np.pi * 220 * np.arange(48000 // FPS) / 48000)).astype(np.float32)
    started, started_cpu = time.perf_counter(), cpu_s()
    with open_mp4_writer(path, plan, width=WIDTH, height=HEIGHT, fps=FPS, **X264_OPTIONS) as writer:
        for i in range(n_frames):
            writer.write_frame(frames[i % len(frames)])
            writer.write_audio(tone, 48000)
    seconds, cpu_seconds = time.perf_counter() - started, cpu_s() - started_cpu
    info = probe(path)
    assert info.n_frames == n_frames and abs(info.audio_duration_s - info.video_duration_s) <= 1 / FPS
    return {"seconds": seconds, "cpu_s": cpu_seconds, "fps": n_frames / seconds, "mb": path.stat().st_size / 1e6}


def render(segments: str, workers: int, folder: Path) -> dict[str, float]:
    from neura.config import Settings
    from neura.pipeline import RenderRequest, render_video
    from render import SCRIPT  # bench/render.py: bench/ is on sys.path when this runs as a script

    settings = Settings(NEURA_CACHE_DIR=folder / "cache", ENCODE_SEGMENTS=segments, ENCODE_WORKERS=workers)
    render_video(RenderRequest(folder / "warm.mp4", script_text="Warming up."), settings)
    output = folder / f"render-{segments}.mp4"
    started, started_cpu = time.perf_counter(), cpu_s()
    result = render_video(RenderRequest(output, script_text=SCRIPT), settings)
    seconds, cpu_seconds = time.perf_counter() - started, cpu_s() - started_cpu
    size_mb = output.stat().st_size / 1e6
    return {"seconds": seconds, "cpu_s": cpu_seconds, "mb": size_mb, "rtf": seconds / result.duration_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="video length to encode")
    parser.add_argument("--workers", type=int, default=0, help="segment workers (0: one per core)")
    parser.add_argument("--render", action="store_true", help="also time whole 720p renders, off and on")
    args = parser.parse_args()
    from neura.pipeline.offline import ENCODER_OPTIONS
    from render import machine

    assert {k: ENCODER_OPTIONS[k] for k in X264_OPTIONS} == X264_OPTIONS, "keep X264_OPTIONS the render's"
    cores = usable_cores()
    workers = args.workers or cores
    n_frames = round(args.seconds * FPS)
    frames = [rgb_to_i420(f) for f in synthetic_frames(WIDTH, HEIGHT, 50)]

    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows["single"] = encode(EncodePlan("libx264", 0), frames, n_frames, folder)
        rows["segmented"] = encode(EncodePlan("libx264", workers, 2.0), frames, n_frames, folder)
        if args.render:
            rows["render_single"] = render("off", workers, folder)
            rows["render_segmented"] = render("on", workers, folder)
    load = os.getloadavg()

    print(f"machine: {machine()}; {cores} usable cores; segment workers {workers}; load {load[0]:.2f}")
    print(f"{'':<18} {'wall s':>7} {'cpu s':>7} {'MB':>6}")
    for name, row in rows.items():
        print(f"{name:<18} {row['seconds']:>7.2f} {row.get('cpu_s', 0):>7.1f} {row.get('mb', 0):>6.1f}")
    summary = {
        "machine": machine(),
        "cores": cores,
        "workers": workers,
        "load_1m": round(load[0], 2),
        "video_s": args.seconds,
        "size": f"{WIDTH}x{HEIGHT}",
        **{f"{name}_s": round(row["seconds"], 2) for name, row in rows.items()},
        **{f"{name}_cpu_s": round(row["cpu_s"], 2) for name, row in rows.items() if "cpu_s" in row},
        "speedup": round(rows["single"]["seconds"] / rows["segmented"]["seconds"], 3),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
