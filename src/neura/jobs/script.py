"""The script step of a prompt video: the language model writes its script, then the video goes to the
render queue of its voice's engine.

Writing a script is I/O (seconds to tens of seconds waiting on a language model), so it is a job of its
own on ``neura:queue:script:<engine>``, run as a coroutine on the worker's event loop: many at once
(``SCRIPT_CONCURRENCY``), none holding a render slot. A run is claimed like a render
(:mod:`neura.jobs.transitions`), heartbeats, publishes ``script`` progress, stops when cancelled,
deleted, timed out or when its worker shuts down (the video is handed back), and ends in one
conditional UPDATE (:func:`~neura.jobs.transitions.hand_to_render`): the written script is stored on the
video (``videos.script["written"]``, with the model that wrote it), the video is ``queued`` again, its
attempt not counted, and its render is enqueued. An unreachable language model is retried like a render
(then the video fails, refunded, with a hint); a killed worker's step is re-queued by the sweeper.

The script is sized by the voice's measured speaking rate, as a render would size it: the step runs on a
worker that has the voice's engine (same capability routing as renders), and the rate is measured once
per voice and machine (:func:`neura.tts.rate.cached_rate_wps`), off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from neura.config import Settings
from neura.db.models import Video
from neura.errors import CancelledError
from neura.jobs import transitions
from neura.jobs.queue import needs_script
from neura.jobs.run import STAGE_SPANS, JobRun, run_claimed
from neura.llm import close_llm, create_llm
from neura.pipeline.stages import ScriptInfo
from neura.script import ScriptAgent, ScriptResult
from neura.tts import create_tts
from neura.tts.voices import VoiceRef

log = logging.getLogger(__name__)

SCRIPT_DONE = STAGE_SPANS["script"][1]  # the overall progress a video keeps once its script is written
MESSAGES = {"writing": "writing the script", "revising": "revising the script", "done": "the script is written"}


async def script_job(ctx: dict[str, Any], video_id: str) -> str:
    """arq entry point (``write_script``): returns what happened, for the worker's log."""
    return await run_claimed(ctx, video_id, "script", ScriptRun)


def speaking_rate_wps(voice: str, settings: Settings) -> float:
    """The voice's measured words per second (loads its engine once per process, measures once per
    machine): blocking, for a thread."""
    return create_tts(VoiceRef.parse(voice), settings).speaking_rate_wps()


class ScriptRun(JobRun):
    doing = "writing the script"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._writing: asyncio.Task[ScriptResult] | None = None

    def stop(self, reason: str) -> None:
        super().stop(reason)
        if self._writing is not None:
            self._writing.cancel()  # a language model call is cancelled at once, mid-answer

    async def _first_event(self) -> None:
        await self._publish_progress("script", self._sent_progress, f"attempt {self.run.attempt}: writing the script")

    async def _work(self) -> str:
        video = self.video
        if not needs_script(video.prompt, video.script):  # a duplicate job, or a video past this step
            return await self._hand_over(video.script)
        assert video.prompt is not None
        settings = self.jobs.settings
        rate_wps = await asyncio.to_thread(speaking_rate_wps, video.voice, settings)
        llm = create_llm(settings)
        try:
            agent = ScriptAgent(llm, words_per_second=rate_wps, on_progress=self._on_agent_progress)
            written = await self._cancellable(agent.write(video.prompt, video.target_duration_s))
        finally:
            await close_llm(llm)
        log.info("video %s: script written by %s (%s)", self.run.video_id, written.llm_name, written.model)
        return await self._hand_over(ScriptInfo.from_result(written).to_json())

    async def _cancellable(self, writing: Any) -> ScriptResult:
        """Await the agent as a task of its own, which :meth:`stop` cancels. The worker shutting down
        cancels this coroutine instead: the task is cancelled too, and the video handed back."""
        task: asyncio.Task[ScriptResult] = asyncio.ensure_future(writing)
        self._writing = task
        if self.stop_reason is not None:  # stopped before the call began (cancelled on its heartbeat)
            task.cancel()
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            self.stop("shutdown")
            await asyncio.gather(task, return_exceptions=True)
            raise
        finally:
            self._writing = None
        if task.cancelled() or self.stop_reason is not None:
            raise CancelledError("writing the script was cancelled")
        return task.result()

    def _on_agent_progress(self, stage: str, fraction: float) -> None:
        self._on_progress("script", fraction, MESSAGES.get(stage, stage))

    async def _hand_over(self, script: dict[str, Any] | None) -> str:
        await self._flush_progress()

        async def hand_to_render(session: AsyncSession) -> Video | None:
            return await transitions.hand_to_render(session, self.run, script, SCRIPT_DONE)

        video = await self._conclude(hand_to_render)
        if video is None:
            return "discarded: the run lost its claim"
        if video.status != "queued":
            return video.status  # cancelled while the script was written
        await self.jobs.publisher.publish_state(video)  # "queued", before its render's first progress
        await self.jobs.queue.enqueue_render(video.id, video.attempts, video.voice)
        return "script written; queued for its render"
