"""The live soak, two minutes of it (``bench/soak.py --minutes 2``; the README's figures come from the
30-minute run): memory flat while sessions come and go, nothing left behind after they close, sound
and mouth in sync at the end, frames delivered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AV_TOLERANCE_MS = 40  # the soak measures between frames (bench/soak.py's AVOffset)


def test_two_minutes_of_live_sessions_leave_nothing_behind() -> None:
    command = [sys.executable, "bench/soak.py", "--minutes", "2", "--sessions", "2"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["turns"] >= 6 and figures["interrupts"] >= 1 and figures["sessions_opened"] >= 4, figures
    assert figures["sessions_dropped"] == 0 and figures["av_offsets_measured"] == 2, figures
    assert (figures["leaked_tasks"], figures["leaked_threads"], figures["leaked_peers"]) == (0, 0, 0), figures
    assert figures["rss_growth_pct"] < 10 and figures["rss_after_close_pct"] < 10, figures
    assert abs(figures["av_offset_ms_max"]) <= AV_TOLERANCE_MS, figures
    assert figures["frame_drop_pct"] < 1.0, figures
