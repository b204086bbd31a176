"""A gateway prepares the default avatar, voice and language model client at start-up, in the background:
the first live session of a process opens about as fast as the next, instead of ~2 s slower."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from neura.tts.registry import clear_engine_cache
from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.conftest import own_gateway
from tests.platform.users import TestUser as Account


async def _open_and_close(http: httpx.AsyncClient, user: Account) -> float:
    """Seconds to open a session (POST /v1/live/sessions), which is then deleted."""
    started = time.perf_counter()
    response = await http.post("/v1/live/sessions", json={}, headers=user.headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.text
    assert (await http.delete(f"/v1/live/sessions/{response.json()['id']}", headers=user.headers)).status_code == 204
    return elapsed


async def test_the_first_session_opens_about_as_fast_as_the_second(
    database_url: str, redis_url: str, openai_server: FakeOpenAIServer, live_root: Path, user: Account
) -> None:
    clear_engine_cache()  # this process's voices load again, as in a new process
    with own_gateway(database_url, redis_url, openai_server.base_url, live_root, "gw-warm") as gateway:
        engines = gateway.live.engines
        gateway.run(gateway.live.warmed_up(), timeout_s=120)  # what a gateway does in its first seconds
        assert "default" in engines._assets, "the default avatar was not prepared at start-up"
        async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as http:
            first = await _open_and_close(http, user)
            second = await _open_and_close(http, user)
    # Without the preparation the first takes ~2 s longer (the rig is built, the voice loaded); a loaded
    # machine adds noise to both, so the bound is generous but far below that difference.
    assert first < second + 0.6, f"first session {first:.2f} s, second {second:.2f} s"


async def test_a_session_created_during_the_preparation_waits_for_it_instead_of_repeating_it(
    database_url: str, redis_url: str, openai_server: FakeOpenAIServer, live_root: Path, user: Account
) -> None:
    with own_gateway(database_url, redis_url, openai_server.base_url, live_root, "gw-early") as gateway:
        async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as http:
            await _open_and_close(http, user)  # at once: shares the preparation in progress
        assets = gateway.live.engines._assets
        assert list(assets) == ["default"]  # built once, not twice
