"""The pipeline without a network: frames in, frames out; an interrupt cancels the LLM stream and
stops everything downstream; a failing model becomes an error event and a spoken apology."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from neura.errors import LLMUnavailableError
from neura.live.chunker import ClauseChunker
from neura.live.conversation import Conversation, estimate_tokens
from neura.live.events import ErrorRaised, StageReached
from neura.live.frames import Frame, Interrupt, LLMEnd, SpeakText, TurnEnd, UserText
from neura.live.llm_stage import FALLBACK_SENTENCE, LLMStage
from neura.live.processor import Pipeline, Processor
from neura.llm import ChatMessage


class Collect(Processor):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Frame] = []

    async def process(self, frame: Frame) -> None:
        self.frames.append(frame)


class SlowLLM:
    """Streams words forever, one every 10 ms; records when its stream is closed."""

    name = model = endpoint = "slow"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.closed = asyncio.Event()
        self.messages: list[ChatMessage] = []

    async def stream_chat(self, messages: Sequence[ChatMessage], **_: Any) -> AsyncIterator[str]:
        self.messages = list(messages)
        if self.fail:
            raise LLMUnavailableError("no model here")
        try:
            for i in range(10_000):
                await asyncio.sleep(0.01)
                yield f" word{i}," if i % 4 == 3 else f" word{i}"
        finally:
            self.closed.set()

    async def complete(self, messages: Sequence[ChatMessage], **_: Any) -> str:
        return ""


async def until(condition: Any, timeout_s: float = 2.0) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), timeout_s)


async def test_an_interrupt_closes_the_llm_stream_and_nothing_stale_comes_out() -> None:
    llm, sink, events = SlowLLM(), Collect(), []
    pipeline = Pipeline([LLMStage(llm, Conversation()), ClauseChunker(), sink], events.append)  # type: ignore[arg-type]
    pipeline.start()
    await pipeline.push(UserText(1, "talk"))
    await until(lambda: sum(isinstance(f, SpeakText) for f in sink.frames) >= 2)
    await pipeline.interrupt("user", up_to_turn=1)
    await asyncio.wait_for(llm.closed.wait(), 1.0)
    count = len(sink.frames)
    await asyncio.sleep(0.1)
    assert isinstance(sink.frames[count - 1], Interrupt)
    assert len(sink.frames) == count  # nothing after the interrupt
    assert [e.stage for e in events if isinstance(e, StageReached)] == ["llm_first_token", "first_clause"]
    await pipeline.stop()


async def test_a_failing_model_is_reported_and_the_avatar_apologises() -> None:
    sink, events = Collect(), []
    pipeline = Pipeline([LLMStage(SlowLLM(fail=True), Conversation()), ClauseChunker(), sink], events.append)  # type: ignore[arg-type]
    pipeline.start()
    await pipeline.push(UserText(3, "hello"))
    await until(lambda: any(isinstance(f, TurnEnd) for f in sink.frames))
    spoken = [f.text for f in sink.frames if isinstance(f, SpeakText)]
    assert spoken == [FALLBACK_SENTENCE]
    [error] = [e for e in events if isinstance(e, ErrorRaised)]
    assert (error.turn_id, error.code) == (3, "llm_unavailable")
    assert not any(isinstance(f, LLMEnd) for f in sink.frames)  # the chunker turns it into TurnEnd
    await pipeline.stop()


def test_the_prompt_has_the_persona_the_time_in_the_configured_zone_and_recent_history() -> None:
    now = datetime(2025, 6, 3, 22, 30, tzinfo=UTC)
    conversation = Conversation(
        "You are Ada.", timezone=timezone(timedelta(hours=2), "CEST"), budget_tokens=400, now=lambda: now
    )
    system = conversation.system_prompt()
    assert system.startswith("You are Ada.") and "Wednesday, 4 June 2025, 00:30 (CEST)" in system
    for i in range(20):
        conversation.record(f"question {i} " + "x" * 100, f"answer {i} " + "y" * 100)
    messages = conversation.messages("latest?")
    assert messages[0].role == "system" and messages[-1].content == "latest?"
    assert sum(estimate_tokens(m.content) for m in messages) <= 400
    kept = [m.content.split()[1] for m in messages[1:-1]]
    assert kept == sorted(kept, key=int) and kept[-1] == "19"  # the newest exchanges, oldest dropped
    assert [m.role for m in messages[1:3]] == ["user", "assistant"]
