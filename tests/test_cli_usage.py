"""What a new user types first: ``--version``, ``--help`` of every command, and bad usage (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from neura import __version__

NEURA = [sys.executable, "-m", "neura.cli"]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NEURA_CACHE_DIR": str(cwd / ".cache"), "COLUMNS": "100", **(env or {})}
    full_env.pop("NEURA_API_KEY", None)
    return subprocess.run([*NEURA, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120)


def commands(cwd: Path) -> list[list[str]]:
    """Every command and sub-command, read from the help itself (so a new one is checked too)."""
    found: list[list[str]] = []
    pending: list[list[str]] = [[]]
    while pending:
        path = pending.pop()
        found.append(path)
        text = run(*path, "--help", cwd=cwd).stdout
        if "Commands:" in text:
            listing = text.split("Commands:", 1)[1]
            pending += [
                [*path, line.split()[0]] for line in listing.splitlines() if line.startswith("  ") and line.split()
            ]
    return found


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flag_prints_the_version(tmp_path: Path, flag: str) -> None:
    done = run(flag, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"neura {__version__}"


def test_no_help_shows_type_labels_like_bool(tmp_path: Path) -> None:
    every = commands(tmp_path)
    assert ["render"] in every and ["db", "upgrade"] in every and ["live"] in every
    for path in every:
        done = run(*path, "--help", cwd=tmp_path)
        assert done.returncode == 0, (path, done.stderr)
        assert "<bool>" not in done.stdout, (path, done.stdout)
        assert "--help" in done.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["live"], "give either --say TEXT or --wav RECORDING"),
        (["live", "--say", "hello"], "an API key is needed"),
        (["live", "--say", "hello", "--timeout", "0"], "--timeout"),
        (["render", "--resolution", "4k"], "unknown resolution"),
        (["render", "--nonsense"], "No such option"),
    ],
    ids=["live-no-say", "live-no-key", "live-bad-timeout", "render-bad-resolution", "unknown-option"],
)
def test_bad_usage_exits_2_with_a_message(tmp_path: Path, args: list[str], needle: str) -> None:
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert needle in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unusable_photo_is_named_by_its_file_not_called_uploaded(tmp_path: Path) -> None:
    (tmp_path / "me.jpg").write_bytes(b"GIF89a" + bytes(64))
    (tmp_path / "script.txt").write_text("Hello there.\n")
    done = run("render", "--script", "script.txt", "--avatar", "me.jpg", "-r", "512", "-q", cwd=tmp_path)
    assert done.returncode == 65, done.stderr
    assert "error: me.jpg is a GIF, not a JPEG, PNG or WebP image" in done.stderr
    assert "upload" not in done.stderr
