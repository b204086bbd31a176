"""Steady API traffic while a fault is injected: what every request answered, for the tests to judge."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx

from tests.platform.users import TestUser
from tests.platform.videos import SHORT_SCRIPT


@dataclass
class Answer:
    at_s: float
    method: str
    path: str
    status: int  # 0: no HTTP answer at all (connection refused or dropped)
    retry_after: str | None
    body: str


@dataclass
class Load:
    """A thread that reads the user's account and list, and submits a short video every few requests."""

    base_url: str
    user: TestUser
    submit_every: int = 5
    max_videos: int = 3  # submits stop once this many were accepted (each is rendered: it takes time)
    answers: list[Answer] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # ids of the videos answered 202
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Load:
        self._thread = threading.Thread(target=self._run, name="fault-load", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=15.0, headers=self.user.headers) as http:
            count = 0
            while not self._stop.is_set():
                count += 1
                if count % self.submit_every == 0 and len(self.accepted) < self.max_videos:
                    self._ask(http, "POST", "/v1/videos", {"script": SHORT_SCRIPT, "resolution": "512"})
                else:
                    self._ask(http, "GET", "/v1/me" if count % 2 else "/v1/videos", None)
                time.sleep(0.05)

    def _ask(self, http: httpx.Client, method: str, path: str, body: object) -> None:
        try:
            response = http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            self.answers.append(Answer(time.monotonic(), method, path, 0, None, repr(exc)))
            return
        answer = Answer(time.monotonic(), method, path, response.status_code, response.headers.get("retry-after"), "")
        answer.body = response.text[:300]
        self.answers.append(answer)
        if method == "POST" and response.status_code == 202:
            self.accepted.append(response.json()["id"])

    def since(self, start_s: float) -> list[Answer]:
        return [a for a in self.answers if a.at_s >= start_s]

    def wait_for(self, status: int, after_s: float, timeout_s: float) -> float:
        """The time of the first answer with ``status`` after ``after_s``; AssertionError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = next((a.at_s for a in self.since(after_s) if a.status == status), None)
            if found is not None:
                return found
            time.sleep(0.05)
        seen = sorted({(a.path, a.status) for a in self.since(after_s)})
        raise AssertionError(f"no {status} answer within {timeout_s} s of the fault; seen: {seen}")
