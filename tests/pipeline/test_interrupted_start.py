"""Ctrl-C or SIGTERM can land while ``Thread.start()`` waits for the new thread to run. The offline
render's two worker threads must then be stopped, not left running: a daemon thread still inside
onnxruntime when Python exits aborts the process (SIGABRT, "terminate called without an active
exception") instead of exiting 130/143, and an encoder nobody closes leaves its temporary file."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from neura.encode.background import BackgroundMp4Writer
from neura.media import SpeechChunk
from neura.pipeline.control import CancelToken
from neura.pipeline.speech import SpeechProducer
from neura.tts import TTSEngine


class _SlowVoice:
    """Half a second per sentence, like a long sentence on a busy CPU."""

    def synthesize(self, text: str) -> Iterator[SpeechChunk]:
        time.sleep(0.5)
        yield SpeechChunk(text, np.zeros(1600, np.float32), 16000)


def _start_then_interrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Thread.start`` that launches the thread, then raises as a signal handler would."""
    start: Callable[[threading.Thread], None] = threading.Thread.start

    def interrupted(thread: threading.Thread) -> None:
        start(thread)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", interrupted)


def test_an_interrupt_while_the_speech_thread_starts_stops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    producer = SpeechProducer(cast(TTSEngine, _SlowVoice()), ["One.", "Two.", "Three."], CancelToken())
    _start_then_interrupt(monkeypatch)
    with pytest.raises(KeyboardInterrupt), producer:
        pytest.fail("the with block must not be entered")
    assert not [t.name for t in threading.enumerate() if t.name == "neura-tts"]


def test_an_interrupt_while_the_encoder_thread_starts_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _start_then_interrupt(monkeypatch)
    options: dict[str, Any] = {"width": 64, "height": 64, "fps": 25}
    with pytest.raises(KeyboardInterrupt):
        BackgroundMp4Writer(tmp_path / "out.mp4", **options)
    assert not [t.name for t in threading.enumerate() if t.name == "neura-encoder"]
    assert not list(tmp_path.iterdir())
