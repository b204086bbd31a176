"""A bounded run of bench/fuzz.py: schemathesis over every operation of a gateway in a loopback-only
network namespace (one generated case per operation and phase), then the hand-written hostile inputs.
No server error, no answer that contradicts the OpenAPI schema, and every operation reached."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from neura.config import Settings
from neura.gateway.app import create_app

ROOT = Path(__file__).resolve().parents[2]


def _operations() -> int:
    schema = create_app(Settings(ENV="test")).openapi()  # type: ignore[call-arg]
    verbs = {"get", "post", "put", "patch", "delete"}
    return sum(1 for item in schema["paths"].values() for verb in item if verb in verbs)


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("socat"),
    reason="fuzzed webhook hosts must not be resolved: the run needs a network namespace (root, unshare, socat)",
)
def test_the_fuzzer_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    command = [sys.executable, "bench/fuzz.py", "--max-examples", "1", "--phases", "examples,coverage,fuzzing"]
    command += ["--max-s", "300", "--hostile-s", "90", "--keep", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=420, check=False)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["server_errors"] == 0 and summary["schema_violations"] == 0, done.stdout[-3000:]
    assert summary["hostile_failed"] == 0, done.stdout[-3000:]
    assert summary["operations"] == _operations(), done.stdout[-3000:]
    assert done.returncode == 0, done.stdout[-3000:]
