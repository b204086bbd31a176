"""Processors and the pipeline that links them (after pipecat's FrameProcessor, much smaller).

A processor's whole contract is :meth:`Processor.process`: it receives one frame and calls
:meth:`Processor.push` for whatever it sends downstream. Data frames wait in the processor's queue and
are processed one at a time, in order, on the processor's own task. System frames overtake them; an
:class:`~neura.live.frames.Interrupt` additionally cancels the frame being processed (closing an LLM
stream, abandoning a TTS result) and empties the queue before the processor sees it, so after an
interrupt nothing stale reaches the next stage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from neura.live.events import ErrorRaised, EventSink, LiveEvent, discard
from neura.live.frames import DataFrame, Frame, Interrupt, SystemFrame

log = logging.getLogger(__name__)


class Processor:
    """One stage. Subclasses override :meth:`process`; the default passes every frame on."""

    def __init__(self) -> None:
        self._next: Processor | None = None
        self._events: EventSink = discard
        self._queue: asyncio.Queue[DataFrame] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._retired: set[asyncio.Task[None]] = set()  # cancelled by an interrupt, still cleaning up

    @property
    def name(self) -> str:
        return type(self).__name__

    # --- what subclasses use
    async def process(self, frame: Frame) -> None:
        await self.push(frame)

    async def push(self, frame: Frame) -> None:
        if self._next is not None:
            await self._next.queue_frame(frame)

    def emit(self, event: LiveEvent) -> None:
        self._events(event)

    # --- what the pipeline uses
    def link(self, downstream: Processor | None, events: EventSink) -> None:
        self._next = downstream
        self._events = events

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"live-{self.name}")

    async def stop(self) -> None:
        """Cancel the task and wait until it (and any interrupted one) has finished cleaning up."""
        self._cancel_work()
        retired, self._retired = self._retired, set()
        await asyncio.gather(*retired, return_exceptions=True)

    def _cancel_work(self) -> None:
        """Cancel the frame in flight and drop the queue, without waiting: an interrupt must not wait
        for an HTTP stream to close."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            self._retired.add(task)
            task.add_done_callback(self._retired.discard)
        _drain(self._queue)

    async def queue_frame(self, frame: Frame) -> None:
        if isinstance(frame, Interrupt):
            self._cancel_work()
            self.start()
            await self.process(frame)
        elif isinstance(frame, SystemFrame):
            await self.process(frame)
        else:
            assert isinstance(frame, DataFrame)
            self._queue.put_nowait(frame)

    async def _run(self) -> None:
        while True:
            frame = await self._queue.get()
            try:
                await self.process(frame)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in one turn must not end the session: report it, go on
                log.exception("%s failed on %s", self.name, type(frame).__name__)
                self.emit(ErrorRaised(frame.turn_id, exc))  # reported as "internal"


class Pipeline:
    """Processors linked in order; frames enter at the first."""

    def __init__(self, processors: Sequence[Processor], events: EventSink) -> None:
        if not processors:
            raise ValueError("a pipeline needs at least one processor")
        self.processors = list(processors)
        for current, downstream in zip(self.processors, [*self.processors[1:], None], strict=True):
            current.link(downstream, events)

    def start(self) -> None:
        for processor in self.processors:
            processor.start()

    async def push(self, frame: Frame) -> None:
        await self.processors[0].queue_frame(frame)

    async def interrupt(self, reason: str, up_to_turn: int) -> None:
        """Runs the interrupt through every stage before returning (no awaiting of slow work)."""
        await self.push(Interrupt(reason, up_to_turn))

    async def stop(self) -> None:
        for processor in self.processors:
            await processor.stop()


def _drain(queue: asyncio.Queue[DataFrame]) -> None:
    while not queue.empty():
        queue.get_nowait()
