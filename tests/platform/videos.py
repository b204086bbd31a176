"""Submitting and following videos through the real API, and looking at what they left in the
database (ledger, balance) and in storage."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.platform.db import fetchval
from tests.platform.users import TestUser, arrange_account, signup

SHORT_SCRIPT = "Hello there. This is a quick test."
LONG_SCRIPT = """# Long enough to interrupt

Hello there. This video lasts long enough to be stopped in the middle of its render.

Every sentence becomes audio, then lip shapes, then frames. Thank you for watching until the end!
"""
TERMINAL = ("succeeded", "failed", "cancelled")


def submit(client: httpx.Client, user: TestUser, **body: Any) -> dict[str, Any]:
    body.setdefault("resolution", "512")
    if "prompt" not in body:
        body.setdefault("script", SHORT_SCRIPT)
    response = client.post("/v1/videos", json=body, headers=user.headers)
    assert response.status_code == 202, response.text
    video: dict[str, Any] = response.json()
    return video


def get(client: httpx.Client, user: TestUser, video_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/videos/{video_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    video: dict[str, Any] = response.json()
    return video


def wait_for(
    client: httpx.Client, user: TestUser, video_id: str, statuses: tuple[str, ...] = TERMINAL, timeout_s: float = 90.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        video = get(client, user, video_id)
        if video["status"] in statuses:
            return video
        if time.monotonic() > deadline:
            raise AssertionError(f"video {video_id} is still {video['status']} ({video['stage']}) after {timeout_s} s")
        time.sleep(0.2)


def set_account(database_url: str, user: TestUser, *, plan: str | None = None, credits: int | None = None) -> None:
    """Test set-up only: the plan and balance of a user (through the ledger, as ``neura users`` does)."""
    asyncio.run(arrange_account(database_url, user, plan=plan, credits=credits))


def pro_member(gateway_url: str, database_url: str) -> TestUser:
    """A new user on the pro plan (ten videos at a time) with 10,000 credits."""
    with httpx.Client(base_url=gateway_url) as client:
        member = signup(client)
    set_account(database_url, member, plan="pro", credits=10_000)
    return member


def balance(database_url: str, user: TestUser) -> int:
    return int(fetchval(database_url, "SELECT credits FROM users WHERE id = $1", uuid.UUID(user.user_id)))


def ledger(database_url: str, video_id: str) -> list[tuple[str, int]]:
    """(reason, delta) of every ledger row of a video, oldest first."""
    rows = fetchval(
        database_url,
        "SELECT coalesce(json_agg(json_build_array(reason, delta) ORDER BY id), '[]') FROM credit_ledger"
        " WHERE video_id = $1",
        uuid.UUID(video_id),
    )
    return [(reason, int(delta)) for reason, delta in json.loads(rows)]


def stored_files(storage_dir: Path, user: TestUser, video_id: str) -> list[str]:
    folder = storage_dir / "users" / user.user_id / "videos" / video_id
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def download(client: httpx.Client, user: TestUser, video_id: str, kind: str = "mp4") -> httpx.Response:
    """The file behind the video's signed URL, fetched without credentials."""
    link = client.get(f"/v1/videos/{video_id}/download", params={"kind": kind}, headers=user.headers)
    assert link.status_code == 200, link.text
    url = httpx.URL(link.json()["url"])
    return client.get(url.raw_path.decode())
