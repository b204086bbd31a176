"""API fuzzing: schemathesis over every operation of the running gateway, then hand-written hostile inputs.

    .venv/bin/python bench/fuzz.py [--max-examples 100] [--max-s 900] [--seed 1] [--no-isolate]

It creates a fresh PostgreSQL database (migrated to head), starts the gateway as ``neura serve`` does
(``ENV=local``: the most permissive environment) on 127.0.0.1, signs up a user, then

1. seeds one object of each kind (avatar, video, webhook, API key, live session) and runs
   ``schemathesis run`` against ``/openapi.json`` with that user's token and those ids
   (``--max-examples`` test cases per operation and phase, NUL characters allowed; checks: no 5xx, and
   success bodies that match their schema; DELETE operations last), and
2. sends the hostile inputs of ``bench/hostile.py`` (NUL and lone surrogates in every kind of field,
   huge numbers, deep JSON, wrong content types, broken multipart bodies, oversized and non-ASCII
   headers, bad signatures, ...), each expected to get a 4xx with NEURA's JSON error body.

It prints every server error (5xx or a dropped connection) it saw, a summary, and as its last line one
JSON object: ``server_errors`` (500s the fuzzer got plus tracebacks the gateway logged: bugs),
``schema_violations`` (answers that contradict the OpenAPI schema), ``operations`` (how many the fuzzer
reached), and details (``fuzz_other_5xx`` are deliberate answers such as 503 "this server has no room
for another live session"). Exit status: 0 when there was no server error, schema violation or
unexpected answer to a hostile input, 1 otherwise. ``tests/platform/test_fuzz.py`` runs a bounded
version in the test suite.

Traffic: only 127.0.0.1. Fuzzed webhook URLs name arbitrary hosts and the gateway resolves them, so
by default (as root, with ``unshare`` and ``socat``) the gateway and the probe run in a network
namespace of their own that has nothing but loopback: PostgreSQL is reached through its Unix socket
and Redis (db ``NEURA_PROBE_REDIS_DB``, default 7) through a socat bridge. ``--no-isolate`` runs
them in this machine's namespace instead.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hostile import Outcome, run_hostile  # noqa: E402
from tests.platform.photos import portrait  # noqa: E402
from tests.servers import free_port, stop_process, wait_until_ready  # noqa: E402

from neura.db.migrate import upgrade  # noqa: E402

PG_SOCKET_DIR = os.environ.get("NEURA_PROBE_PG_SOCKET_DIR", "/var/run/postgresql")
PG_USER = os.environ.get("NEURA_PROBE_PG_USER", "postgres")
REDIS_TCP = os.environ.get("NEURA_PROBE_REDIS_TCP", "127.0.0.1:6379")
REDIS_DB = int(os.environ.get("NEURA_PROBE_REDIS_DB", "7"))
PASSWORD = "correct horse battery staple"


def _admin_url() -> str:
    return f"postgresql://{PG_USER}@/postgres?host={PG_SOCKET_DIR}"


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(_admin_url())
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class Gateway:
    """A fresh database, a flushed Redis db and the gateway in a uvicorn subprocess on loopback."""

    def __init__(self, redis_url: str, folder: Path) -> None:
        self.redis_url = redis_url
        self.folder = folder
        self.database = f"neura_probe_{uuid.uuid4().hex[:10]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / "gateway.log"

    def __enter__(self) -> Gateway:
        asyncio.run(_admin(f'CREATE DATABASE "{self.database}"'))
        try:
            database_url = f"postgresql+asyncpg://{PG_USER}@/{self.database}?host={PG_SOCKET_DIR}"
            upgrade(database_url)
            redis.Redis.from_url(self.redis_url).flushdb()
            env = {
                **os.environ,
                "ENV": "local",
                "DATABASE_URL": database_url,
                "REDIS_URL": self.redis_url,
                "STORAGE_DIR": str(self.folder / "storage"),
                "NEURA_CACHE_DIR": str(self.folder / "cache"),
                "RATE_LIMIT_PER_MINUTE": "1000000",
                "LIVE_MESSAGES_PER_MINUTE": "1000000",
                "LIVE_SESSIONS_PER_MINUTE": "1000000",
                "SPEECH_PER_MINUTE": "1000000",
                "FILES_PER_MINUTE": "1000000",
                "SIGNUP_CREDITS": "100000000",
                "ACCESS_TOKEN_TTL_S": "86400",
                "LMSTUDIO_BASE_URL": "http://127.0.0.1:9/v1",  # nothing listens: live turns fail fast
                "LIVE_MAX_SESSIONS": "4",  # room for the seeded session and the fuzzer's (a full server answers 503)
                "WEBRTC_HOST_ADDRESSES": "127.0.0.1",
            }
            command = [sys.executable, "-m", "neura.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            with self.log.open("wb") as log:
                self.process = subprocess.Popen(command, env=env, cwd=self.folder, stdout=log, stderr=log)
            wait_until_ready(self.process, f"{self.url}/readyz", timeout_s=90, what=f"the gateway (log: {self.log})")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            stop_process(self.process)
        with contextlib.suppress(Exception):  # best-effort cleanup: report nothing, leave nothing
            redis.Redis.from_url(self.redis_url).flushdb()
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))

    def tracebacks(self) -> list[str]:
        """The exception of each traceback the gateway logged (the last of a chain)."""
        lines = self.log.read_text(errors="replace").splitlines()
        found = []
        for index, line in enumerate(lines):
            if not line.startswith("Traceback"):
                continue
            end = index + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                end += 1
            after = end + 1
            while after < len(lines) and not lines[after].startswith("Traceback"):
                after += 1
            chained = any(x.startswith(("The above exception", "During handling")) for x in lines[end:after])
            if end < len(lines) and not chained:
                found.append(lines[end][:300])
        return found


def seed(url: str, token: str) -> dict[str, str]:
    """One of each resource the probe user owns, so that operations on an id reach their logic instead
    of answering 404 (schemathesis sends these ids; everything else it generates)."""
    headers = {"Authorization": f"Bearer {token}"}
    ids: dict[str, str] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        created = {
            "avatar_id": http.post("/v1/avatars", files={"file": ("me.jpg", portrait(), "image/jpeg")}),
            "video_id": http.post("/v1/videos", json={"script": "Hello there. This is a probe."}),
            "webhook_id": http.post("/v1/webhooks", json={"url": "https://93.184.215.14/hook"}),  # never called
            "key_id": http.post("/v1/api-keys", json={"name": "probe"}),
            "session_id": http.post("/v1/live/sessions", json={}),
        }
    for name, response in created.items():
        if response.status_code in (200, 201, 202):
            ids[name] = str(response.json()["id"])
        else:
            print(f"could not seed {name}: {response.status_code} {response.text[:200]}")
    return ids


def signup(url: str) -> str:
    email = f"probe-{uuid.uuid4().hex[:12]}@example.com"
    response = httpx.post(f"{url}/v1/auth/signup", json={"email": email, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


# --- schemathesis


def run_schemathesis(
    url: str, token: str, ids: dict[str, str], args: argparse.Namespace, folder: Path, budget_s: float
) -> dict[str, Any]:
    """Run the CLI twice (everything but DELETE, then DELETE, so that the seeded objects live until the
    end); return counts read from its NDJSON event streams."""
    config = folder / "schemathesis.toml"
    config.write_text("[parameters]\n" + "".join(f'"path.{name}" = "{value}"\n' for name, value in ids.items()))
    started = time.monotonic()
    output = folder / "schemathesis.txt"
    timed_out = False
    reports = []
    with output.open("wb") as out:
        for index, selection in enumerate((["--exclude-method", "DELETE"], ["--include-method", "DELETE"])):
            report = folder / f"schemathesis-{index}.ndjson"
            reports.append(report)
            command = [
                str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config),
                "run", f"{url}/openapi.json", *selection,
                "--header", f"Authorization: Bearer {token}",
                "--checks", args.checks,
                "--max-examples", str(args.max_examples), "--seed", str(args.seed),
                "--generation-allow-x00", "true", "--workers", "2", "--request-timeout", "60",
                "--suppress-health-check", "all", "--max-failures", "10000", "--continue-on-failure",
                "--report", "ndjson", "--report-ndjson-path", str(report), "--no-color",
                "--phases", args.phases, "--generation-database", "none", "--mode", args.mode,
            ]  # fmt: skip
            # cwd: schemathesis keeps a cache of crashes in ./.schemathesis; not in the repository
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
            try:
                process.wait(timeout=max(10.0, budget_s - (time.monotonic() - started)))
            except subprocess.TimeoutExpired:
                stop_process(process, timeout_s=10)
                timed_out = True
                break
    summary = summarise_ndjson(reports)
    summary.update(elapsed_s=round(time.monotonic() - started, 1), timed_out=timed_out, output=str(output))
    return summary


def summarise_ndjson(paths: list[Path]) -> dict[str, Any]:
    """Test cases, operations and failures (by check and operation) from schemathesis' NDJSON reports."""
    cases = 0
    operations: set[str] = set()
    failures: Counter[str] = Counter()
    server_errors: dict[str, str] = {}
    lines = [line for path in paths if path.exists() for line in path.read_text(errors="replace").splitlines()]
    for line in lines:
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            _walk(event, operations, failures, server_errors)
            cases += _count_cases(event)
    return {
        "cases": cases,
        "operations": len(operations),
        "failures": dict(failures),
        "server_errors": server_errors,
    }


def _count_cases(event: Any) -> int:
    """Requests recorded in a ScenarioFinished event (one per test case it ran)."""
    finished = event.get("ScenarioFinished") if isinstance(event, dict) else None
    if not isinstance(finished, dict):
        return 0
    return len((finished.get("recorder") or {}).get("interactions") or {})


def _walk(event: Any, operations: set[str], failures: Counter[str], server_errors: dict[str, str]) -> None:
    finished = event.get("ScenarioFinished") if isinstance(event, dict) else None
    if not isinstance(finished, dict):
        return
    recorder = finished.get("recorder") or {}
    label = str(recorder.get("label") or "")
    if label:
        operations.add(label)
    interactions = recorder.get("interactions") or {}
    for case_id, checks in (recorder.get("checks") or {}).items():
        for check in checks:
            if str(check.get("status")).lower() != "failure":
                continue
            name = str(check.get("name"))
            interaction = interactions.get(case_id) or {}
            request, response = interaction.get("request") or {}, interaction.get("response") or {}
            if name == "not_a_server_error":
                name = f"{name}[{response.get('status_code')}]"  # 500: a bug; 503: deliberately unavailable
                if label not in server_errors:
                    body = _decoded(response.get("content"))[:160]
                    server_errors[label] = f"{response.get('status_code')} {body!r} for {request.get('uri')}"
            failures[f"{name} {label}"] += 1


def _decoded(payload: Any) -> str:
    if isinstance(payload, dict) and "$base64" in payload:
        return base64.b64decode(payload["$base64"]).decode("utf-8", "replace")
    return str(payload or "")


# --- orchestration


def probe(args: argparse.Namespace, redis_url: str) -> int:
    deadline = time.monotonic() + args.max_s
    with tempfile.TemporaryDirectory(prefix="neura-probe-") as tmp:
        folder = Path(tmp)
        with Gateway(redis_url, folder) as gateway:
            token = signup(gateway.url)
            fuzz: dict[str, Any] = {"skipped": True}
            if not args.skip_fuzz:
                ids = seed(gateway.url, token)
                budget = max(30.0, deadline - time.monotonic() - args.hostile_s)
                fuzz = run_schemathesis(gateway.url, token, ids, args, folder, budget)
                if args.keep:
                    shutil.copy(fuzz["output"], args.keep / "schemathesis.txt")
                    for events in folder.glob("schemathesis-*.ndjson"):
                        shutil.copy(events, args.keep / events.name)
            outcomes: list[Outcome] = asyncio.run(run_hostile(gateway.url, signup(gateway.url), args.hostile_s))
            tracebacks = gateway.tracebacks()
            if args.keep:
                shutil.copy(gateway.log, args.keep / "gateway.log")
    return summarise(fuzz, outcomes, tracebacks)


def summarise(fuzz: dict[str, Any], outcomes: list[Outcome], tracebacks: list[str]) -> int:
    failed = [o for o in outcomes if not o.ok]
    print("\n== schemathesis")
    if not fuzz.get("skipped"):
        print(f"{fuzz['cases']} test cases over {fuzz['operations']} operations in {fuzz['elapsed_s']} s")
        for name, count in sorted(fuzz["failures"].items()):
            print(f"  FAIL {count:>5}  {name}")
        for label, example in sorted(fuzz["server_errors"].items()):
            print(f"  5xx  {label}: {example}")
    print(f"\n== hostile inputs: {len(outcomes)} sent, {len(failed)} not answered as expected")
    for outcome in failed:
        print(f"  FAIL {outcome.name}: got {outcome.got} (expected {outcome.expected})")
    counts = Counter(tracebacks)
    print(f"\n== gateway tracebacks: {len(tracebacks)}")
    for line, count in counts.most_common():
        print(f"  {count:>5}  {line}")
    failures = fuzz.get("failures", {})
    server_errors = sum(v for k, v in failures.items() if k.startswith("not_a_server_error[500]"))
    schema_violations = sum(v for k, v in failures.items() if k.startswith("response_schema_conformance"))
    summary = {
        "server_errors": server_errors + len(tracebacks),  # 500s seen by the fuzzer, or logged by the gateway
        "schema_violations": schema_violations,
        "operations": fuzz.get("operations", 0),
        "fuzz_cases": fuzz.get("cases", 0),
        "fuzz_operations": fuzz.get("operations", 0),
        "fuzz_500": server_errors,
        "fuzz_other_5xx": sum(v for k, v in failures.items() if k.startswith("not_a_server_error")) - server_errors,
        "hostile_sent": len(outcomes),
        "hostile_failed": len(failed),
        "gateway_tracebacks": len(tracebacks),
    }
    print(json.dumps(summary))
    return 0 if not (failed or tracebacks or server_errors or schema_violations) else 1


def _can_isolate() -> bool:
    return os.geteuid() == 0 and bool(shutil.which("unshare")) and bool(shutil.which("socat"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=100, help="test cases per operation and phase")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful", help="schemathesis phases")
    parser.add_argument("--mode", default="all", choices=["positive", "negative", "all"])
    parser.add_argument(
        "--checks", default="not_a_server_error,response_schema_conformance", help="schemathesis checks (comma list)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-s", type=float, default=900.0, help="time budget for the whole probe")
    parser.add_argument("--hostile-s", type=float, default=120.0, help="time kept for the hostile inputs")
    parser.add_argument("--skip-fuzz", action="store_true", help="only the hostile inputs")
    parser.add_argument("--keep", type=Path, help="copy the gateway's log and schemathesis' output here")
    parser.add_argument("--no-isolate", action="store_true", help="do not run in a loopback-only namespace")
    parser.add_argument("--inside", help=argparse.SUPPRESS)  # the Redis socket, when re-run in the namespace
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    if args.inside:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return probe(args, f"unix://{args.inside}?db={REDIS_DB}")
    if args.no_isolate or not _can_isolate():
        if not args.no_isolate:
            print("not isolated (needs root, unshare and socat): fuzzed webhook hosts may be resolved by DNS")
        host, port = REDIS_TCP.rsplit(":", 1)
        return probe(args, f"redis://{host}:{port}/{REDIS_DB}")
    with tempfile.TemporaryDirectory(prefix="neura-probe-redis-") as tmp:
        sock = f"{tmp}/redis.sock"
        bridge = subprocess.Popen(["socat", f"UNIX-LISTEN:{sock},fork", f"TCP:{REDIS_TCP}"])
        try:
            for _ in range(100):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            inner = [a for a in sys.argv[1:]]
            return subprocess.call(["unshare", "-n", "--", sys.executable, __file__, *inner, "--inside", sock])
        finally:
            stop_process(bridge)


if __name__ == "__main__":
    sys.exit(main())
