"""Progress streams of a real render, over SSE and WebSocket: the current state first, then the stages
in order, then one terminal event."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from neura.config import Settings
from neura.jobs.events import STAGES
from tests.platform import users
from tests.platform.streams import Event, read_sse, read_ws, stages
from tests.platform.videos import submit, wait_for
from tests.platform.workers import WorkerProcess, clear_queues
from tests.realtime import check_message


@pytest.fixture(scope="module")
def worker(platform_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    """Not started: the first test subscribes before any worker can pick its video up."""
    clear_queues(platform_settings)
    process = WorkerProcess(platform_settings, Path(tmp_path_factory.mktemp("events")) / "worker.log")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def owner(gateway_url: str) -> users.TestUser:
    with httpx.Client(base_url=gateway_url) as client:
        return users.signup(client)


@pytest.fixture(scope="module")
def finished(gateway_url: str, owner: users.TestUser, worker: WorkerProcess) -> dict[str, object]:
    """A video followed from submission to completion by one SSE and one WebSocket subscriber."""
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        video = submit(client, owner)
        streams: dict[str, list[Event]] = {}

        def sse() -> None:
            streams["sse"] = read_sse(gateway_url, video["id"], owner.headers, lambda e: seen.__setitem__("sse", e))

        def ws() -> None:
            streams["ws"] = read_ws(gateway_url, video["id"], owner.access_token)

        seen: dict[str, Event] = {}
        threads = [threading.Thread(target=sse, daemon=True), threading.Thread(target=ws, daemon=True)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while "sse" not in seen:
            assert time.monotonic() < deadline, "the SSE stream sent nothing"
            time.sleep(0.05)
        time.sleep(0.3)  # the WebSocket subscribes as quickly
        worker.start()
        for thread in threads:
            thread.join(timeout=120)
        assert set(streams) == {"sse", "ws"}, worker.log()
        return {"video": wait_for(client, owner, video["id"]), **streams}


@pytest.mark.parametrize("transport", ["sse", "ws"])
def test_stream_shows_state_then_stages_in_order_then_completed(finished: dict[str, object], transport: str) -> None:
    events: list[Event] = finished[transport]  # type: ignore[assignment]
    assert events[0]["type"] == "state" and events[0]["status"] == "queued"
    assert events[-1]["type"] == "completed" and events[-1]["status"] == "succeeded"
    assert [e["type"] for e in events].count("completed") == 1
    seen = stages(events)
    assert {"script", "avatar", "render", "upload"} <= set(seen), seen
    assert seen == sorted(seen, key=STAGES.index), f"stages out of order: {seen}"
    progress = [e["progress"] for e in events if e["type"] == "progress"]
    assert progress == sorted(progress) and progress[-1] > 0.9
    seqs = [e["seq"] for e in events[1:]]
    assert seqs == sorted(set(seqs)), "events repeated or out of order"
    assert events[-1]["duration_s"] > 0 and events[-1]["credits_charged"] > 0


def test_both_transports_carry_the_same_events(finished: dict[str, object]) -> None:
    sse: list[Event] = finished["sse"]  # type: ignore[assignment]
    ws: list[Event] = finished["ws"]  # type: ignore[assignment]
    assert [e["seq"] for e in sse[1:]] == [e["seq"] for e in ws[1:]]


def test_a_late_subscriber_gets_the_current_state_then_the_end(
    finished: dict[str, object], gateway_url: str, owner: users.TestUser
) -> None:
    video_id = str(finished["video"]["id"])  # type: ignore[index]
    for events in (read_sse(gateway_url, video_id, owner.headers), read_ws(gateway_url, video_id, owner.access_token)):
        assert [e["type"] for e in events] == ["state", "completed"]
        assert events[0]["status"] == "succeeded" and events[0]["progress"] == 1.0


def ws_close_code(gateway_url: str, path: str) -> int:
    """The close code of a refused WebSocket, after its one error message (as every WebSocket sends)."""
    url = gateway_url.replace("http://", "ws://") + path
    with connect(url, open_timeout=10) as socket:
        error = check_message("VideoEventsSocketMessage", json.loads(socket.recv(timeout=10)))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert error["type"] == "error" and error["code"] in ("auth", "not_found")
    return closed.value.rcvd.code


def test_websocket_refuses_missing_invalid_and_foreign_tokens(
    finished: dict[str, object], gateway_url: str, client: httpx.Client
) -> None:
    path = f"/v1/videos/{finished['video']['id']}/events/ws"  # type: ignore[index]
    assert ws_close_code(gateway_url, path) == 4401
    assert ws_close_code(gateway_url, path + "?access_token=nonsense") == 4401
    intruder = users.signup(client)
    assert ws_close_code(gateway_url, path + f"?access_token={intruder.access_token}") == 4404


def test_sse_needs_the_owner(finished: dict[str, object], client: httpx.Client) -> None:
    path = f"/v1/videos/{finished['video']['id']}/events"  # type: ignore[index]
    assert client.get(path).status_code == 401
    assert client.get(path, headers=users.signup(client).headers).status_code == 404
