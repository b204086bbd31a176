"""The render job: claim a video, render it on a thread, upload its files, finish it exactly once.

The run's life (heartbeat, progress, cancellation, retries, hand-back on shutdown) is
:class:`neura.jobs.run.JobRun`'s; here: the render on the worker's executor (it stops within about a
second when its :class:`CancelToken` is set), the upload under the run's own ``r<attempt>/`` prefix, and
the completion that charges for the video. A run whose completion matches nothing deletes what it
uploaded. A prompt video arrives with its script written by its script step (:mod:`neura.jobs.script`);
one queued by an older release still has its script written here, on the render thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from neura.assets.avatars import stored_asset
from neura.db.models import Avatar, Video
from neura.db.session import transaction
from neura.errors import CancelledError, ImageError, NotFoundError, StorageError
from neura.jobs import transitions
from neura.jobs.artifacts import CONTENT_TYPES, FILE_NAMES, result_files, run_prefix
from neura.jobs.run import JobRun, run_claimed
from neura.metrics import RENDER_DURATION
from neura.pipeline import RenderRequest, RenderResult, render_video
from neura.pipeline.request import Resolution, avatar_px
from neura.pipeline.stages import ScriptInfo
from neura.render.providers import create_renderer
from neura.render.seam import RenderAsset
from neura.tts.voices import VoiceRef

log = logging.getLogger(__name__)


async def render_job(ctx: dict[str, Any], video_id: str) -> str:
    """arq entry point (``render_video``): returns what happened, for the worker's log."""
    return await run_claimed(ctx, video_id, "render", RenderRun)


class RenderRun(JobRun):
    doing = "the render"
    holds_render_slot = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.workdir: Path | None = None
        self._uploaded = False  # something is in storage under this run's prefix
        self._succeeded = False

    async def _work(self) -> str:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"neura-{self.run.video_id}-"))
        result = await self._render(self.workdir)
        if self.stop_reason is not None:
            raise CancelledError("the render was cancelled")
        return await self._finish(result)

    def _public(self, message: str) -> str:
        return message.replace(str(self.workdir), "the render's folder") if self.workdir else message

    async def _cleanup(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if self._uploaded and not self._succeeded:
            await self._discard_uploads()

    # --- the render itself

    async def _render(self, workdir: Path) -> RenderResult:
        request = await self._request(workdir)
        settings = self.jobs.settings
        call = functools.partial(render_video, request, settings, progress=self._on_progress, cancel=self.token)
        future = self._loop.run_in_executor(self.jobs.executor, call)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            self.stop("shutdown")
            await asyncio.wait({future})  # the thread stops within about a second; never leave it running
            if not future.cancelled():
                future.exception()  # it ended in CancelledError (or finished): either way, handed back
            raise

    async def _request(self, workdir: Path) -> RenderRequest:
        video = self.video
        resolution: Resolution = "512" if video.resolution == "512" else "720p"
        avatar: bytes | None = None
        avatar_name: str | None = None
        asset: RenderAsset | None = None
        if video.avatar_id is not None:
            async with transaction(self.jobs.sessions) as session:
                row = await session.get(Avatar, video.avatar_id)
            if row is None or row.user_id != video.user_id:
                raise ImageError("the avatar of this video was deleted", hint="choose another avatar")
            avatar_name = row.name
            renderer = create_renderer(self.jobs.settings)
            size_px = avatar_px(resolution)
            asset = await stored_asset(
                self.jobs.storage, row.rig_keys or {}, size_px, renderer, executor=self.jobs.executor
            )
            if asset is None:
                try:
                    avatar = await self.jobs.storage.get_bytes(row.image_key)
                except NotFoundError:
                    raise ImageError("the avatar's photo is missing from storage", hint="upload it again") from None
        script = (video.script or {}).get("text")
        written = ScriptInfo.from_json(video.script) if video.script and "written" in video.script else None
        return RenderRequest(
            output_path=workdir / FILE_NAMES["mp4"],
            prompt=None if script else video.prompt,
            script_text=script,
            written_script=written,
            duration_s=video.target_duration_s,
            avatar=avatar,
            avatar_name=avatar_name,
            avatar_asset=asset,
            resolution=resolution,
            burn_captions=video.captions,
            background=video.background,
            voice=VoiceRef.parse(video.voice),  # checked when it was submitted; stored as "engine:voice"
        )

    # --- outcomes

    def _prefix(self) -> str:
        return run_prefix(self.run.user_id, self.run.video_id, self.run.attempt)

    async def _finish(self, result: RenderResult) -> str:
        await self._flush_progress()  # the render thread's last updates ("finish") before the upload's
        files = result_files(result)
        artifacts: dict[str, str] = {}
        for i, (kind, path) in enumerate(files.items()):
            await self._publish_progress("upload", 0.96 + 0.04 * i / len(files), kind)
            key = f"{self._prefix()}/{FILE_NAMES[kind]}"
            self._uploaded = True
            await self.jobs.storage.put_file(key, path, CONTENT_TYPES[kind])
            artifacts[kind] = key

        async def complete(session: AsyncSession) -> Video | None:
            return await transitions.complete(session, self.run, artifacts=artifacts, duration_s=result.duration_s)

        video = await self._conclude(complete)
        if video is None:
            return "discarded: the run lost its claim"
        self._succeeded = video.status == "succeeded"
        if self._succeeded:
            RENDER_DURATION.observe(time.monotonic() - self._started)
        return video.status

    async def _discard_uploads(self) -> None:
        try:
            await self.jobs.storage.delete_prefix(self._prefix())
        except (StorageError, OSError) as exc:
            log.warning("could not delete the files of run %s of %s: %s", self.run.attempt, self.run.video_id, exc)
