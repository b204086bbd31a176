"""The pipeline without WebRTC: frames in, frames out; an interrupt cancels the LLM stream and
stops everything downstream; a failing model becomes an error event and a spoken apology; a speculative
voice reply is held, cancelled when the user goes on, played once the turn is confirmed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np

from neura.config import Settings
from neura.errors import LLMUnavailableError
from neura.live.chunker import ClauseChunker
from neura.live.conversation import Conversation, estimate_tokens
from neura.live.deadlines import DeadlineExecutor
from neura.live.events import ErrorRaised, LiveEvent, StageReached
from neura.live.frames import (
    Frame,
    Interrupt,
    LLMEnd,
    SpeakText,
    Transcript,
    TurnEnd,
    UserAudio,
    UserStartedSpeaking,
    UserStoppedSpeaking,
    UserText,
)
from neura.live.lipsync_stage import LipSyncStage
from neura.live.llm_stage import FALLBACK_SENTENCE, LLMStage
from neura.live.processor import Pipeline, Processor
from neura.live.timeline import SpeechOutput, SpeechTimeline
from neura.live.tts_stage import TTSStage
from neura.live.turn_taking import TurnController, VoiceConfig
from neura.live.turns import TurnCounter
from neura.llm import ChatMessage, create_llm
from neura.tts import VoiceRef, create_tts
from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.test_timeline import video


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


async def test_a_speculative_reply_is_held_cancelled_when_the_user_goes_on_and_played_once_confirmed(
    openai_server: FakeOpenAIServer,
) -> None:
    """The output side for real (the model over HTTP, Piper, lip sync, the timeline) behind the turn
    controller, fed the input frames of: words, a pause, more words, the silence that ends the turn."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        ENV="test",
        LMSTUDIO_BASE_URL=openai_server.base_url,
        LMSTUDIO_MODEL=openai_server.model,
    )
    openai_server.behaviour.replies = lambda request: f"You asked: {request.json['messages'][-1]['content']}"
    admitted: list[int] = []

    async def admit() -> None:
        admitted.append(1)

    events: list[LiveEvent] = []
    timeline = SpeechTimeline(events.append, video())
    output = SpeechOutput(timeline)
    controller = TurnController(TurnCounter(), lambda: timeline.busy, VoiceConfig(), admit=admit)
    executor = DeadlineExecutor(max_workers=1, thread_name_prefix="test-speech")
    lipsync = ThreadPoolExecutor(max_workers=1)
    tts = create_tts(VoiceRef.configured(settings), settings)
    stages = [LLMStage(create_llm(settings, "lmstudio"), Conversation()), ClauseChunker()]
    pipeline = Pipeline([controller, *stages, TTSStage(tts, executor), LipSyncStage(lipsync), output], events.append)
    pipeline.start()
    silence = np.zeros(320, np.float32)

    async def quiet(from_sample: int, seconds: float) -> None:
        for i in range(int(seconds * 50)):
            await pipeline.push(UserAudio(silence, from_sample + i * 320, 0.0, 0.0))

    try:
        await pipeline.push(UserStartedSpeaking(0, 1.0))
        await pipeline.push(UserStoppedSpeaking(32_000, 3.0))
        await pipeline.push(Transcript("I want to ask you about", True, 32_000, -0.2))
        await quiet(32_000, 0.2)  # an unfinished sentence: 1.2 s of silence would end the turn
        await until(lambda: output.kept > 0, timeout_s=20)  # answered and synthesised, held back
        assert not timeline.busy and not np.any(timeline.read_audio(0, 48_000))  # nothing heard
        assert [r["messages"][-1]["content"] for r in openai_server.chat_requests] == ["I want to ask you about"]

        await pipeline.push(UserStartedSpeaking(40_000, 3.5))  # the user goes on
        await until(lambda: output.kept == 0)
        await pipeline.push(UserStoppedSpeaking(64_000, 5.0))
        await pipeline.push(Transcript("the whales of the north.", True, 64_000, -0.2))
        whole = "I want to ask you about the whales of the north."
        await until(lambda: output.kept > 0 and len(openai_server.chat_requests) == 2, timeout_s=20)
        assert not timeline.busy and not admitted  # speculating again, still unheard, nothing charged
        await quiet(64_000, 0.4)  # "." and complete: 300 ms confirm it
        assert timeline.busy and output.kept == 0  # confirmed: on the timeline at once
        assert admitted == [1]  # one turn admitted (rate limits), the cancelled reply never was
        assert [type(e).__name__ for e in events].count("VoiceTurn") == 1
        played = timeline.read_audio(48_000, 48_000 * 3)
        assert np.any(played)
        assert [r["messages"][-1]["content"] for r in openai_server.chat_requests][-1] == whole
        assert [m["role"] for m in openai_server.chat_requests[-1]["messages"]] == ["system", "user"]
    finally:
        await pipeline.stop()
        executor.shutdown(wait=False, cancel_futures=True)
        lipsync.shutdown(wait=False)
