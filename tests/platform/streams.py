"""Progress streams read the way clients read them: SSE over HTTP and a WebSocket."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.realtime import check_message

TERMINAL_EVENTS = ("completed", "failed", "cancelled")
Event = dict[str, Any]


def read_sse(
    base_url: str,
    video_id: str,
    headers: dict[str, str],
    on_event: Callable[[Event], None] | None = None,
    timeout_s: float = 120.0,
) -> list[Event]:
    """Every event of ``/v1/videos/{id}/events`` until the terminal one."""
    events: list[Event] = []
    with (
        httpx.Client(base_url=base_url, timeout=timeout_s) as client,
        client.stream("GET", f"/v1/videos/{video_id}/events", headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                event = check_message("VideoEvent", json.loads(line[len("data: ") :]))
                assert event["type"] == name
                events.append(event)
                if on_event is not None:
                    on_event(event)
                if event["type"] in TERMINAL_EVENTS:
                    break
    return events


def read_ws(base_url: str, video_id: str, access_token: str, timeout_s: float = 120.0) -> list[Event]:
    """Every message of ``/v1/videos/{id}/events/ws`` until the server closes it."""
    url = base_url.replace("http://", "ws://") + f"/v1/videos/{video_id}/events/ws?access_token={access_token}"
    events: list[Event] = []
    with connect(url, open_timeout=10, close_timeout=5) as socket:
        while True:
            event = check_message("VideoEventsSocketMessage", json.loads(socket.recv(timeout=timeout_s)))
            if event["type"] == "keepalive":
                continue
            events.append(event)
            if event["type"] in TERMINAL_EVENTS:
                break
    return events


def stages(events: list[Event]) -> list[str]:
    """The distinct stages in the order they were first seen."""
    seen: list[str] = []
    for event in events:
        stage = event.get("stage")
        if stage and stage not in seen:
            seen.append(stage)
    return seen
