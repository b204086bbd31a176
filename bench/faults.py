"""Fault benchmark: renders under random worker SIGKILLs, judged video by video.

    .venv/bin/python bench/faults.py [--renders 20] [--workers 2] [--concurrency 2] [--max-kills 6]

Starts a PostgreSQL cluster and a Redis server of its own (free loopback ports, temporary folders: the
machine's shared servers are never touched), the gateway in this process, and ``--workers`` worker
processes rendering ``--concurrency`` videos each. It submits ``--renders`` videos at once (two pro
accounts: ten at a time each), then SIGKILLs a random worker every 4-10 s while renders are running
(at most ``--max-kills`` times), starting a new one each time, until every video has ended or
``--timeout-s`` passed. What it checks is :mod:`tests.faults.chaos` (the CI test runs the same with 4
renders). The last line printed is one JSON object: ``renders_completed``, ``renders_lost``,
``double_charges``, ``orphan_objects`` (and ``kills``, ``elapsed_s``, the machine's load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.chaos import Chaos  # noqa: E402
from tests.faults.services import own_services  # noqa: E402
from tests.platform.videos import LONG_SCRIPT, SHORT_SCRIPT  # noqa: E402
from tests.servers import serve_in_thread  # noqa: E402

from neura.config import Settings  # noqa: E402
from neura.gateway.app import create_app  # noqa: E402
from neura.gateway.server import uvicorn_options  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--max-kills", type=int, default=6)
    parser.add_argument("--long", action="store_true", help="a ~10 s script instead of a ~3 s one")
    parser.add_argument("--timeout-s", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="neura-bench-faults-") as tmp, own_services(Path(tmp)) as services:
        folder = Path(tmp)
        settings = Settings(  # type: ignore[call-arg]
            ENV="test",
            DATABASE_URL=services.database_url,
            REDIS_URL=services.redis_url,
            STORAGE_DIR=folder / "storage",
            NEURA_CACHE_DIR=folder / "cache",
            RATE_LIMIT_PER_MINUTE=100_000,
            ACCESS_TOKEN_TTL_S=86_400,  # the run can outlast the default 15 minutes on a loaded machine
        )
        with (
            serve_in_thread(create_app(settings), **uvicorn_options(settings)) as url,
            httpx.Client(base_url=url, timeout=60.0) as client,
        ):
            chaos = Chaos(
                client,
                settings,
                services.database_url,
                folder,
                workers=args.workers,
                concurrency=args.concurrency,
                kill_every_s=(4.0, 10.0),
                max_kills=args.max_kills,
                seed=args.seed,
            )
            script = LONG_SCRIPT if args.long else SHORT_SCRIPT
            print(f"{args.renders} renders, {args.workers} workers x {args.concurrency}", flush=True)
            report = chaos.run(args.renders, script, args.timeout_s)
        for problem in report.problems:
            print(f"  {problem}")
    load = os.getloadavg()
    figures = {
        **report.figures(),
        "renders": args.renders,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
