"""The suite's housekeeping: its temporary files go to its own folder (removed after a passing run), and
``scripts/setup`` shows pip's errors but not its noise, keeping pip's exit status."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_temporary_files_of_the_suite_and_its_processes_go_to_its_own_folder() -> None:
    folder = Path(tempfile.gettempdir())
    assert folder.name.startswith("neura-tests-") and os.environ["TMPDIR"] == str(folder)
    child = subprocess.run(
        [sys.executable, "-c", "import tempfile; print(tempfile.gettempdir())"], capture_output=True, text=True
    )
    assert child.stdout.strip() == str(folder)  # workers, gateways and the CLI inherit it


def _quietly(command: str) -> subprocess.CompletedProcess[str]:
    """The setup script's ``quietly`` function, run on ``command``."""
    script = (ROOT / "scripts" / "setup").read_text()
    function = script[script.index("quietly() {") : script.index("\n}\n", script.index("quietly() {")) + 3]
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{function}\nquietly bash -c {shlex.quote(command)}"],
        capture_output=True,
        text=True,
    )


def test_setup_hides_the_index_noise_but_keeps_errors_and_the_exit_status() -> None:
    noise = "WARNING: Location 'file:///opt/pypi/simple/numpy/' is ignored: it is neither a file nor a directory."
    failed = _quietly(f'echo "{noise}"; echo "{noise}" >&2; echo "ERROR: No matching distribution" >&2; exit 3')
    assert failed.returncode == 3
    assert failed.stderr.strip() == "ERROR: No matching distribution" and failed.stdout == ""

    fine = _quietly(f'echo "{noise}" >&2; exit 0')
    assert fine.returncode == 0 and fine.stderr == "" and fine.stdout == ""
