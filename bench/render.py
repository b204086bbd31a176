"""Offline render benchmark: a 60-second narration at 1280x720 and 512x512 on this machine.

    .venv/bin/python bench/render.py [--resolutions 720p 512] [--preset veryfast]

For each resolution it first renders one short sentence to warm the process (as a worker is warm:
the voice loaded, the avatar's rig built and cached), then measures, in one run: the TTS real-time
factor (the script synthesised alone), render fps (avatar warp + compose), encode fps (x264 + AAC
inside the pipeline), the pipeline's total wall time (no LLM: the script is given), and the
encode-only floor: the same number of frames through the same x264 settings with x264's automatic
threading (the fastest encode: the render encodes 512x512 on one thread, see
``neura.pipeline.offline.SINGLE_THREAD_MAX_PIXELS``), nothing else. It also
prints the render's CPU time and the lower bound of its floor ratio on this machine: the CPU time over
every core, or the voice's synthesis alone, whichever is longer.
Targets (issue 2): total <= 0.25x real time and <= 2x the floor. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from neura.config import Settings
from neura.encode import encode_floor, probe
from neura.pipeline import RenderRequest, render_video
from neura.pipeline.offline import ENCODER_OPTIONS, encoder_options
from neura.tts import create_tts

# About 190 words: one minute of narration at the default voice's pace.
SCRIPT = """# How tides work

Twice a day the sea rises and falls along every coast. These tides are driven mostly by the Moon. \
Its gravity pulls on the whole Earth, but it pulls hardest on the side facing it, so the ocean there \
bulges toward the Moon.

On the far side, the Earth itself is pulled away from the water, leaving a second bulge. As the planet \
turns, each coast passes through both bulges, which is why most places see two high tides every day.

The Sun matters too. When the Sun and the Moon line up, at new and full moon, their pulls add together \
and we get spring tides, with the highest highs and the lowest lows. When they pull at right angles, \
the difference is smaller, and we call those neap tides.

Tides are not the same everywhere. The shape of a bay, the depth of the water and the width of the \
coast can make the rise tiny, or more than ten metres, as in the Bay of Fundy in Canada.

So the next time you walk on a beach, remember that the water at your feet is keeping time with the \
Moon.
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def bench_tts(settings: Settings) -> dict[str, float]:
    tts = create_tts(None, settings)
    list(tts.synthesize("Warm up."))
    start = time.perf_counter()
    audio_s = sum(chunk.duration_s for chunk in tts.synthesize(SCRIPT.split("\n", 1)[1]))
    synth_s = time.perf_counter() - start
    return {"tts_rtf": synth_s / audio_s, "tts_audio_s": audio_s}


def bench_resolution(resolution: str, settings: Settings, folder: Path, tts_s: float) -> dict[str, float]:
    """``tts_s``: the script's synthesis alone (one core), for the lower bound of the floor ratio."""
    output = folder / f"bench-{resolution}.mp4"
    # Warm the process as a worker is warm: voice loaded, the avatar's rig built and cached, fonts ready.
    warm_up = RenderRequest(output_path=folder / "warm.mp4", script_text="Warming up.", resolution=resolution)  # type: ignore[arg-type]
    cold_start = time.perf_counter()
    render_video(warm_up, settings)
    cold_s = time.perf_counter() - cold_start
    request = RenderRequest(output_path=output, script_text=SCRIPT, resolution=resolution)  # type: ignore[arg-type]
    start, start_cpu = time.perf_counter(), time.process_time()
    result = render_video(request, settings)
    total_s, cpu_s = time.perf_counter() - start, time.process_time() - start_cpu
    info = probe(output)
    # The floor is the fastest encode of these frames: the render's x264 settings with x264's automatic
    # threading (the render itself encodes small frames on one thread, which is faster *overall* there
    # because the voice holds the other core, but would make a slower "floor").
    options = {**encoder_options(result.width, result.height), "threads": 0}
    floor = encode_floor(result.n_frames, result.width, result.height, request.fps, **options)
    timings = result.timings_s
    return {
        "video_s": result.duration_s,
        "frames": result.n_frames,
        "total_s": total_s,
        "rtf_total": total_s / result.duration_s,
        "render_fps": result.n_frames / timings["render"],
        "encode_fps": result.n_frames / timings["encode"],
        "floor_s": floor["seconds"],
        "floor_fps": floor["fps"],
        "floor_ratio": total_s / floor["seconds"],
        # The least wall time this work can take here: all its CPU spread over every core, and never
        # less than the voice alone (one sentence after another on one core).
        "cpu_s": cpu_s,
        "bound_ratio": max(tts_s, cpu_s / (os.cpu_count() or 1)) / floor["seconds"],
        "av_gap_s": abs(info.video_duration_s - info.audio_duration_s),
        "warm_up_s": cold_s,
        "mb": output.stat().st_size / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolutions", nargs="+", default=["720p", "512"], choices=["720p", "512"])
    parser.add_argument("--preset", default=ENCODER_OPTIONS["preset"], help="x264 preset for render and floor")
    args = parser.parse_args()
    ENCODER_OPTIONS["preset"] = args.preset

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(NEURA_CACHE_DIR=folder / "cache")  # type: ignore[call-arg]
        tts = bench_tts(settings)
        tts_s = tts["tts_rtf"] * tts["tts_audio_s"]
        rows = {res: bench_resolution(res, settings, folder, tts_s) for res in args.resolutions}

    print(f"machine: {machine()}; x264 preset {args.preset}")
    print(f"TTS real-time factor: {tts['tts_rtf']:.3f} ({tts['tts_audio_s']:.1f} s of speech)")
    header = f"{'resolution':<10} {'video s':>7} {'total s':>7} {'x real':>6} {'render fps':>10} "
    header += f"{'encode fps':>10} {'floor s':>7} {'x floor':>7} {'cpu s':>6} {'bound':>6}"
    print(header)
    for res, row in rows.items():
        print(
            f"{res:<10} {row['video_s']:>7.1f} {row['total_s']:>7.1f} {row['rtf_total']:>6.3f} "
            f"{row['render_fps']:>10.0f} {row['encode_fps']:>10.0f} {row['floor_s']:>7.1f} {row['floor_ratio']:>7.2f}"
            f" {row['cpu_s']:>6.1f} {row['bound_ratio']:>6.2f}"
        )
    print("bound: the least 'x floor' this machine allows for this work (its CPU time over every core, or")
    print("the voice alone on one core, whichever is longer)")
    first = rows[args.resolutions[0]]
    summary = {
        "machine": machine(),
        "rtf_total": round(first["rtf_total"], 4),
        "floor_ratio": round(first["floor_ratio"], 3),
        "tts_rtf": round(tts["tts_rtf"], 4),
        "render_fps": round(first["render_fps"], 1),
        "encode_fps": round(first["encode_fps"], 1),
        "resolution": args.resolutions[0],
        "preset": args.preset,
        "by_resolution": {res: {k: round(float(v), 4) for k, v in row.items()} for res, row in rows.items()},
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
