"""Renders under random SIGKILLs: several worker processes render many videos at once while one of them
is killed now and then (at whatever it is doing: claiming, rendering, uploading, finishing) and a new
one started. Afterwards every video is checked against PostgreSQL and the storage folder:

* completed: succeeded; lost: anything else (failed, cancelled, or still not done at the deadline);
* double charges: a video whose ledger is not exactly one reserve and one settle of what it cost;
* orphan objects: files in storage other than those of the run each succeeded video serves.

Shared by ``tests/faults/test_worker_kills.py`` (a few renders, in CI) and ``bench/faults.py`` (20).
"""

from __future__ import annotations

import math
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from neura.config import Settings
from neura.jobs.artifacts import run_prefix
from tests.platform import users
from tests.platform.videos import get, ledger, set_account, submit
from tests.platform.workers import WorkerProcess

PER_USER = 10  # the pro plan renders ten videos at a time
WORKER_START_S = 180.0  # a worker's imports take minutes on a machine loaded far beyond its cores


@dataclass
class ChaosReport:
    renders_completed: int = 0
    renders_lost: int = 0
    double_charges: int = 0
    orphan_objects: int = 0
    kills: int = 0
    elapsed_s: float = 0.0
    problems: list[str] = field(default_factory=list)  # what was wrong, video by video

    def figures(self) -> dict[str, float]:
        return {
            "renders_completed": self.renders_completed,
            "renders_lost": self.renders_lost,
            "double_charges": self.double_charges,
            "orphan_objects": self.orphan_objects,
            "kills": self.kills,
            "elapsed_s": round(self.elapsed_s, 1),
        }


@dataclass
class Chaos:
    client: httpx.Client
    settings: Settings
    database_url: str
    folder: Path
    workers: int = 2
    concurrency: int = 2
    kill_every_s: tuple[float, float] = (3.0, 8.0)  # a kill at a random moment in this interval
    max_kills: int = 3
    max_tries: int = 8  # enough attempts that the kills alone never exhaust them
    seed: int = 12
    started: list[WorkerProcess] = field(default_factory=list)

    def _start_worker(self) -> WorkerProcess:
        log = self.folder / f"worker-{len(self.started)}.log"
        env = {"JOB_MAX_TRIES": str(self.max_tries)}
        worker = WorkerProcess(self.settings, log, concurrency=self.concurrency, env=env)
        self.started.append(worker)  # before it starts: one that never gets ready is stopped all the same
        worker.start(timeout_s=WORKER_START_S)
        return worker

    def logs(self, tail_chars: int = 4000) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{w.log()[-tail_chars:]}" for w in self.started)

    def run(self, renders: int, script: str, timeout_s: float) -> ChaosReport:
        rng = random.Random(self.seed)
        report = ChaosReport()
        owners = []
        for _ in range(math.ceil(renders / PER_USER)):
            owner = users.signup(self.client)
            set_account(self.database_url, owner, plan="pro", credits=100_000)
            owners.append(owner)
        try:
            alive = [self._start_worker() for _ in range(self.workers)]
            began = time.monotonic()
            videos = [
                (owner, submit(self.client, owner, script=script))
                for owner in (owners[i // PER_USER] for i in range(renders))
            ]
            deadline = began + timeout_s
            next_kill = began + rng.uniform(*self.kill_every_s)
            while time.monotonic() < deadline:
                states = [get(self.client, owner, video["id"])["status"] for owner, video in videos]
                if all(s not in ("queued", "running") for s in states):
                    break
                if report.kills < self.max_kills and time.monotonic() >= next_kill and "running" in states:
                    victim = alive.pop(rng.randrange(len(alive)))
                    victim.kill()
                    report.kills += 1
                    alive.append(self._start_worker())
                    next_kill = time.monotonic() + rng.uniform(*self.kill_every_s)
                time.sleep(0.2)
            report.elapsed_s = time.monotonic() - began
            self._judge(report, videos)
        finally:
            for worker in self.started:
                worker.stop()
        return report

    def _judge(self, report: ChaosReport, videos: list[tuple[users.TestUser, dict[str, object]]]) -> None:
        kept: set[str] = set()
        for owner, submitted in videos:
            video = get(self.client, owner, str(submitted["id"]))
            if video["status"] != "succeeded":
                report.renders_lost += 1
                report.problems.append(f"{video['id']}: {video['status']} ({video['error']})")
                continue
            report.renders_completed += 1
            reserved = int(video["credits_reserved"])
            charged = min(reserved, math.ceil(video["duration_s"]))
            rows = ledger(self.database_url, video["id"])
            if rows != [("reserve", -reserved), ("settle", reserved - charged)] or video["credits_charged"] != charged:
                report.double_charges += 1
                report.problems.append(f"{video['id']}: ledger {rows}, charged {video['credits_charged']}")
            kept.add(run_prefix(uuid.UUID(owner.user_id), uuid.UUID(video["id"]), video["attempts"]) + "/")
        storage = self.settings.storage_dir
        for path in sorted(p for p in storage.rglob("*") if p.is_file()):
            key = path.relative_to(storage).as_posix()
            if key.startswith("users/") and "/videos/" in key and not any(key.startswith(k) for k in kept):
                report.orphan_objects += 1
                report.problems.append(f"orphan: {key}")
