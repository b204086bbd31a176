"""Workers SIGKILLed at random moments while several videos render at once: every video completes
exactly once, is charged once, and leaves no object in storage but its own files
(:mod:`tests.faults.chaos`; ``bench/faults.py`` runs the same with 20 renders)."""

from __future__ import annotations

import httpx
import pytest

from neura.config import Settings
from tests.faults.chaos import Chaos
from tests.platform.videos import SHORT_SCRIPT
from tests.platform.workers import clear_queues


def test_random_kills_during_concurrent_renders(
    client: httpx.Client,
    fault_settings: Settings,
    database_url: str,
    gateway_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    clear_queues(fault_settings)
    # a kill every 0.5-1.5 s while a render runs: on a fast machine the four short renders are over in
    # about 5 s (with kills every 1.5-4 s, one of this project's machines finished them after one kill)
    chaos = Chaos(client, fault_settings, database_url, tmp_path_factory.mktemp("chaos"), kill_every_s=(0.5, 1.5))
    report = chaos.run(renders=4, script=SHORT_SCRIPT, timeout_s=600)
    assert report.kills >= 2, f"the renders ended before the kills: {report.figures()}"
    figures = report.figures()
    assert (figures["renders_completed"], figures["renders_lost"]) == (4, 0), (report.problems, chaos.logs())
    assert figures["double_charges"] == 0, report.problems
    assert figures["orphan_objects"] == 0, report.problems
