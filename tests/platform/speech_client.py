"""Test helpers for the speech routes: decode audio with PyAV, talk to /v1/tts/stream."""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from websockets.sync.client import ClientConnection, connect

from tests.realtime import check_message


@dataclass
class Decoded:
    codec: str
    container: str
    sample_rate_hz: int
    samples: npt.NDArray[np.float32]

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.sample_rate_hz


def decode(data: bytes) -> Decoded:
    """Any audio file's first audio stream, as float32 mono at its own rate."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        pieces = [frame.to_ndarray().astype(np.float32).mean(axis=0) for frame in container.decode(stream)]
        codec = stream.codec_context.name
        return Decoded(codec, container.format.name, stream.sample_rate, np.concatenate(pieces))


def ws_url(gateway_url: str, path: str = "/v1/tts/stream", **query: str) -> str:
    url = gateway_url.replace("http://", "ws://") + path
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


@dataclass
class Chunk:
    header: dict[str, Any]
    audio: bytes
    received_at: float


@dataclass
class StreamResult:
    ready: dict[str, Any]
    chunks: list[Chunk] = field(default_factory=list)
    done: dict[str, Any] | None = None


def open_stream(url: str) -> tuple[ClientConnection, dict[str, Any]]:
    socket = connect(url, open_timeout=10, close_timeout=5)
    ready = check_message("TTSStreamServerMessage", json.loads(socket.recv(timeout=60)))
    assert ready["type"] == "ready", ready
    return socket, ready


def send_text(socket: ClientConnection, text: str) -> None:
    socket.send(json.dumps({"type": "text", "text": text}))


def receive_chunk(socket: ClientConnection, timeout_s: float = 60.0) -> Chunk | dict[str, Any]:
    """The next chunk (its JSON header and the binary audio after it), or another JSON message."""
    message = check_message("TTSStreamServerMessage", json.loads(socket.recv(timeout=timeout_s)))
    if message["type"] != "chunk":
        return message
    audio = socket.recv(timeout=timeout_s)
    assert isinstance(audio, bytes), "a chunk's JSON must be followed by one binary message"
    return Chunk(message, audio, time.perf_counter())


def receive_until_done(socket: ClientConnection, result: StreamResult, timeout_s: float = 120.0) -> StreamResult:
    while True:
        item = receive_chunk(socket, timeout_s)
        if isinstance(item, Chunk):
            result.chunks.append(item)
            continue
        assert item["type"] == "done", item
        result.done = item
        return result
