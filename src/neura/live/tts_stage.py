"""``SpeakText`` -> ``Speech``: synthesis on a worker thread, one clause at a time, in order.

A TTS engine's ``synthesize`` is blocking and CPU-heavy, so it runs on the speech threads every
session shares (a :class:`~neura.live.deadlines.DeadlineExecutor`), due when the speech already queued
for the listener runs out: a turn's first clause at once, ahead of later clauses of other sessions,
whose listeners still have speech to hear. An interrupt cancels the coroutine awaiting it: a clause
still waiting for a thread is dropped; one being synthesised finishes and its result is dropped.

The first clause of a turn is synthesised at once, streamed (the engine's ``synthesize_streaming``: its
opening first, then the rest a slice at a time, see docs/live.md); later ones only while less than ``ahead_s`` of
speech waits to be played. A model streams its answer faster than it is spoken, and synthesising it
all at once would take a core for seconds (starving other sessions' frames) and be thrown away by an
interrupt; paced, a speaking session costs about the voice's real-time factor of a core, steadily.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator

from neura.errors import NeuraError, ScriptError
from neura.live.deadlines import DeadlineExecutor
from neura.live.events import ErrorRaised, StageReached
from neura.live.frames import Frame, SpeakText, Speech
from neura.live.processor import Processor
from neura.media import SpeechChunk
from neura.tts import TTSEngine

log = logging.getLogger(__name__)


def synthesize_all(tts: TTSEngine, text: str) -> list[SpeechChunk]:
    """Every chunk of ``text`` (a clause is usually one); none when there is nothing to say."""
    try:
        return list(tts.synthesize(text))
    except ScriptError:
        return []


def synthesize_opening(chunks: Iterator[SpeechChunk]) -> list[SpeechChunk]:
    """The next chunks of a streaming synthesis, up to and including one that ``continues`` (its rest is
    what the next call returns); none when there is nothing (more) to say."""
    out: list[SpeechChunk] = []
    try:
        for chunk in chunks:
            out.append(chunk)
            if chunk.continues:
                break
    except ScriptError:
        pass
    return out


MAX_AHEAD_S = 2.0  # synthesise a later clause only while less speech than this waits to be played
PACE_POLL_S = 0.05


class TTSStage(Processor):
    def __init__(
        self,
        tts: TTSEngine,
        executor: DeadlineExecutor,
        *,
        first_clause_tts: TTSEngine | None = None,
        queued_s: Callable[[], float] = lambda: 0.0,
        ahead_s: float = MAX_AHEAD_S,
        rendered_ahead_s: float = 0.0,
    ) -> None:
        """``first_clause_tts``: the voice to use for a turn's first clause (the same voice with more
        threads: faster). ``queued_s``: seconds of speech placed but not yet played (the timeline's gauge).
        ``rendered_ahead_s``: how far ahead of the voice the video may be rendered (the rest of a streamed
        clause must be placed before the video passes its opening's end, or the voice pauses)."""
        super().__init__()
        self.tts = tts
        self.first_clause_tts = first_clause_tts or tts
        self.executor = executor
        self.queued_s = queued_s
        self.ahead_s = ahead_s
        self.rendered_ahead_s = rendered_ahead_s
        self._reported_turn = -1  # the last turn whose first audio was reported

    async def process(self, frame: Frame) -> None:
        if not isinstance(frame, SpeakText):
            await self.push(frame)
            return
        if frame.index > 0:
            while self.queued_s() > self.ahead_s:
                await asyncio.sleep(PACE_POLL_S)
        try:
            if frame.index == 0:  # streamed, alone on two threads; later clauses whole, on one thread
                await self._speak_streaming(frame)
            else:
                due_s = time.monotonic() + self.queued_s()
                chunks = await asyncio.wrap_future(self.executor.submit_by(due_s, synthesize_all, self.tts, frame.text))
                await self._push_chunks(frame, chunks)
        except NeuraError as error:
            log.warning("live turn %d: speech synthesis failed: %s", frame.turn_id, error.message)
            self.emit(ErrorRaised(frame.turn_id, error))

    async def _speak_streaming(self, frame: SpeakText) -> None:
        """The first clause, alone on the speech threads (see neura.live.deadlines), streamed: its opening
        is decoded and placed first, and played while the rest is made, a slice at a time. Each slice must
        be placed before the video is rendered past the audio before it; it is due a third of the way
        there, leaving the rest of that time for its synthesis and lip sync (a deadline is when a job may
        start)."""
        chunks = self.first_clause_tts.synthesize_streaming(frame.text)
        due_s = time.monotonic() + self.queued_s()
        heard_by_s = due_s  # when the speech placed or on its way runs out
        while True:
            batch = await asyncio.wrap_future(self.executor.submit_alone_by(due_s, synthesize_opening, chunks))
            await self._push_chunks(frame, batch)
            if not batch or not batch[-1].continues:
                return
            now_s = time.monotonic()
            heard_by_s = max(heard_by_s, now_s) + sum(chunk.duration_s for chunk in batch)
            due_s = now_s + max(0.0, heard_by_s - self.rendered_ahead_s - now_s) / 3

    async def _push_chunks(self, frame: SpeakText, chunks: list[SpeechChunk]) -> None:
        for chunk in chunks:
            if not len(chunk.samples):
                continue
            if frame.turn_id != self._reported_turn:
                self._reported_turn = frame.turn_id
                self.emit(StageReached(frame.turn_id, "first_audio"))
            await self.push(Speech(frame.turn_id, chunk, frame.index))
