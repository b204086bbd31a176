"""bench/gpu.py in its smoke mode on this machine's CPU: a GPU lease lasts minutes, so the script it runs
must have run before, end to end, and print the summary the lease is for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")  # the benchmark measures the torch backend (neura[gpu])

ROOT = Path(__file__).resolve().parents[2]


def test_the_gpu_benchmark_runs_on_the_cpu_and_ends_with_its_summary(tmp_path: Path) -> None:
    command = [sys.executable, "bench/gpu.py", "--device", "cpu", "--seconds", "5"]
    command += ["--live-seconds", "1", "--max-sessions", "2", "--store", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"render_1080p_60s_s", "render_720p_60s_s", "live_sessions_max", "device"} <= set(summary)
    assert summary["render_1080p_60s_s"] > 0 and summary["render_720p_60s_s"] > 0
    assert summary["offline"]["720p"]["codec"] == "libx264"
    assert 0 <= summary["live_sessions_max"] <= 2 and summary["live"]["rounds"]
    assert summary["vp8"]["fps_total"] > 25
    assert "CPU" in summary["device"] and "torch" in summary["device"]
