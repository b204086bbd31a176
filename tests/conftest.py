"""Fixtures shared by every test folder, and the suite's own temporary folder.

Everything the suite writes to "the temporary folder" (pytest's ``tmp_path``, ``tempfile`` in this
process, and every process it starts: workers, gateways, the command line, which inherit ``TMPDIR``)
goes into one folder made for this run and removed when it ends, so a run leaves nothing behind in
/tmp: not a worker's render folder after a test kills it, not a cache (a run can write over a GB
there). ``NEURA_KEEP_TEST_TMP=1`` keeps it, and says where, to look at after a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

_SUITE_TMP = Path(tempfile.mkdtemp(prefix="neura-tests-"))
os.environ["TMPDIR"] = str(_SUITE_TMP)
tempfile.tempdir = str(_SUITE_TMP)  # gettempdir() caches its first answer: set it for this process too


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("NEURA_KEEP_TEST_TMP") == "1":
        print(f"\nthe suite's temporary files are kept in {_SUITE_TMP}")
    else:
        shutil.rmtree(_SUITE_TMP, ignore_errors=True)


@pytest.fixture
def unused_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
