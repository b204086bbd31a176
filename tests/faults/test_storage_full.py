"""Object storage that refuses writes (a full disk: the worker's storage folder on a 64 KiB tmpfs): the
render fails cleanly after its tries, with a message that says so, its credits come back, and no
partial upload is left behind."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from neura.config import Settings
from tests.platform import users
from tests.platform.videos import LONG_SCRIPT, balance, ledger, submit, wait_for
from tests.platform.workers import WorkerProcess

MAX_TRIES = 2


@pytest.fixture(scope="module")
def full_disk() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    folder = Path(tempfile.mkdtemp(prefix="neura-full-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
        folder.rmdir()


@pytest.fixture(scope="module")
def worker(
    fault_settings: Settings, full_disk: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {"STORAGE_DIR": str(full_disk), "JOB_MAX_TRIES": str(MAX_TRIES)}
    process = WorkerProcess(fault_settings, log, env=env).start()
    yield process
    process.stop()


def test_a_full_disk_fails_the_render_and_refunds_it(
    client: httpx.Client, database_url: str, worker: WorkerProcess, full_disk: Path
) -> None:
    user = users.signup(client)
    before = balance(database_url, user)
    video = submit(client, user, script=LONG_SCRIPT)
    failed = wait_for(client, user, video["id"], timeout_s=300)
    assert failed["status"] == "failed" and failed["attempts"] == MAX_TRIES, worker.log()[-3000:]
    assert failed["error"].startswith("object storage cannot store video.mp4: No space left on device"), failed["error"]
    assert failed["credits_charged"] == 0 and failed["artifacts"] == []
    reserved = video["credits_reserved"]
    assert ledger(database_url, video["id"]) == [("reserve", -reserved), ("refund", reserved)]
    assert balance(database_url, user) == before
    left = [str(p.relative_to(full_disk)) for p in full_disk.rglob("*") if p.is_file()]
    assert left == [], f"partial uploads left behind: {left}"
