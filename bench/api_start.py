"""API-role start-up: CPU and wall time of a fresh ``--role api`` process (imports, the app, its start-up
against the database and Redis), next to what the framework imports alone cost in the same process, and
one ``all``-role process for comparison.

    .venv/bin/python bench/api_start.py [--runs 5]

The measurement is the one tests/platform/test_scale.py makes (its ``start_role``), on the machine's
PostgreSQL and Redis; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.platform.test_scale import start_role  # noqa: E402

DATABASE_URL = os.environ.get("NEURA_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("NEURA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def start(role: str) -> dict[str, float | int]:
    run = start_role(DATABASE_URL, REDIS_URL, role)
    return {
        "cpu_s": run["cpu_s"],
        "wall_s": run["wall_s"],
        "framework_cpu_s": run["framework_cpu_s"],
        "gc_cpu_s": run["gc_cpu_s"],
        "media_modules": len(run["loaded"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = [start("api") for _ in range(args.runs)]
    for run in runs:
        print(
            f"api: {run['cpu_s']:.3f} s CPU, {run['wall_s']:.3f} s wall, framework {run['framework_cpu_s']:.3f} s, "
            f"garbage collector {run['gc_cpu_s']:.3f} s"
        )
    everything = start("all")
    print(f"all: {everything['cpu_s']:.3f} s CPU, {everything['media_modules']} media-stack modules loaded")
    load = os.getloadavg()
    print(
        json.dumps(
            {
                "api_cpu_s_median": round(statistics.median(r["cpu_s"] for r in runs), 3),
                "api_wall_s_median": round(statistics.median(r["wall_s"] for r in runs), 3),
                "framework_cpu_s_median": round(statistics.median(r["framework_cpu_s"] for r in runs), 3),
                "gc_cpu_s_median": round(statistics.median(r["gc_cpu_s"] for r in runs), 3),
                "api_media_modules": max(r["media_modules"] for r in runs),
                "all_cpu_s": round(everything["cpu_s"], 3),
                "machine": f"{os.cpu_count()} cpus, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
            }
        )
    )


if __name__ == "__main__":
    main()
