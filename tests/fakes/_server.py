"""Plumbing shared by the fake LLM servers: a plain ASGI app served by uvicorn on 127.0.0.1.

A fake runs in-process (``with FakeServer() as server:`` starts uvicorn in a background thread, so it
serves sync and async tests alike and outlives any one event loop) or in the foreground
(:meth:`FakeServer.serve_forever`, for the standalone command lines). Every request is recorded; a
client that goes away before the answer is complete is recorded as a disconnect.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from typing_extensions import Self

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Hang = Literal["never", "before_headers", "after_first_token"]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Behaviour:
    """How a fake answers. Change it per test (``server.behaviour.ttft_ms = 0``) or pass a new one to
    :meth:`FakeServer.reset`."""

    #: Answers in order (the last one repeats), or a function of the request.
    replies: Sequence[str] | Callable[[RecordedRequest], str] = ("Hello! I am the fake language model.",)
    ttft_ms: float = 50.0  # time to first token
    tokens_per_s: float = 80.0  # 0 or less: all at once
    #: HTTP statuses to answer the next requests with, one per request, before answering normally.
    fail_with: list[int] = field(default_factory=list)
    fail_message: str = ""  # the error message of those failures (default: "fake failure with HTTP n")
    hang: Hang = "never"  # hang forever at this point (until the client goes away)
    garbage: bool = False  # answer 200 with bytes that are not the protocol
    thought: str = ""  # Gemini only: a reasoning part sent before the answer


def split_tokens(text: str) -> list[str]:
    """Word-sized tokens that join back to ``text`` exactly (leading spaces stay with their word)."""
    tokens = re.findall(r"\s*\S+", text)
    if not tokens:
        return [text] if text else []
    trailing = text[len("".join(tokens)) :]
    tokens[-1] += trailing
    return tokens


async def paced(tokens: Sequence[str], behaviour: Behaviour) -> AsyncIterator[str]:
    """The tokens at the behaviour's pace: the first after ``ttft_ms``, then ``tokens_per_s``."""
    await asyncio.sleep(behaviour.ttft_ms / 1000)
    for i, token in enumerate(tokens):
        if i and behaviour.tokens_per_s > 0:
            await asyncio.sleep(1 / behaviour.tokens_per_s)
        yield token
        if behaviour.hang == "after_first_token":
            await asyncio.Event().wait()


class FakeServer:
    """Base of the fakes: subclasses implement :meth:`handle`."""

    def __init__(self, behaviour: Behaviour | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.behaviour = behaviour or Behaviour()
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        self._replies_given = 0
        self._generation = 0  # bumped by reset(): a late disconnect from an earlier test is not counted
        self._disconnected = threading.Event()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        # Listening now, not when uvicorn starts: a client given the URL (printed by the standalone
        # command line before serving) waits in the backlog instead of being refused.
        self._socket.listen(128)
        config = uvicorn.Config(self, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- lifecycle
    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._server.force_exit = True  # do not wait for hanging responses
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted (Ctrl-C, SIGTERM)."""
        self._server.run(sockets=[self._socket])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self, behaviour: Behaviour | None = None) -> None:
        """Forget the requests and disconnects seen so far; answer with ``behaviour`` from now on."""
        self.behaviour = behaviour or Behaviour()
        self.requests.clear()
        self.disconnects = 0
        self._replies_given = 0
        self._generation += 1
        self._disconnected.clear()

    def wait_for_disconnect(self, timeout_s: float = 2.0) -> bool:
        """True once a client went away before its answer was complete."""
        return self._disconnected.wait(timeout_s)

    # --- what a subclass uses
    def next_reply(self, request: RecordedRequest) -> str:
        replies = self.behaviour.replies
        if callable(replies):
            return replies(request)
        if not replies:
            return ""
        reply = replies[min(self._replies_given, len(replies) - 1)]
        self._replies_given += 1
        return reply

    def next_failure(self) -> tuple[int, str] | None:
        """The status and message to fail this request with, if :attr:`Behaviour.fail_with` says so."""
        if not self.behaviour.fail_with:
            return None
        status = self.behaviour.fail_with.pop(0)
        return status, self.behaviour.fail_message or f"fake failure with HTTP {status}"

    async def handle(self, request: RecordedRequest, send: Send) -> None:
        raise NotImplementedError

    # --- ASGI
    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode(),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
        )
        self.requests.append(request)
        await self._answer_until_disconnect(request, receive, send)

    async def _answer_until_disconnect(self, request: RecordedRequest, receive: Receive, send: Send) -> None:
        complete = False
        generation = self._generation

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal complete
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True

        answer = asyncio.ensure_future(self.handle(request, tracked_send))
        listener = asyncio.ensure_future(_wait_for_disconnect(receive))
        await asyncio.wait({answer, listener}, return_when=asyncio.FIRST_COMPLETED)
        if listener.done() and not complete:
            answer.cancel()
            if generation == self._generation:
                self.disconnects += 1
                self._disconnected.set()
        else:
            listener.cancel()
        await asyncio.gather(answer, listener, return_exceptions=True)


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def send_json(send: Send, status: int, payload: Any) -> None:
    await send_bytes(send, status, json.dumps(payload).encode(), "application/json")


async def send_bytes(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_event_stream(send: Send, events: AsyncIterator[bytes]) -> None:
    """A 200 ``text/event-stream`` response, one body message per event (so each is flushed at once)."""
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    async for event in events:
        await send({"type": "http.response.body", "body": event, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def hang_forever() -> None:
    await asyncio.Event().wait()
