"""The engines live sessions share within one process: loaded once, kept warm, closed at shutdown.

Language models (one client per provider name), TTS engines (cached by :func:`create_tts`), the
renderer (RENDER_BACKEND, RENDER_DEVICE) and its avatar assets (the default portrait and recently used
avatars), the speech recognition engine (``STT_MODEL``, unless ``LIVE_VOICE`` is off) and four
executors: TTS (the clause due soonest first, see :mod:`neura.live.deadlines`), lip sync (resampling
and mouth tracks: a few milliseconds that must not wait behind a synthesis), frames (render and
encode), so a long synthesis never delays a frame, and speech recognition (one worker: a user's
decodes run in order, and never hold a TTS worker).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from neura.assets.avatars import load_stored_asset
from neura.config import Settings
from neura.errors import LLMError, NeuraError
from neura.live.deadlines import DeadlineExecutor
from neura.live.timeline import FPS
from neura.llm import LLMProvider, create_llm
from neura.render.providers import create_renderer
from neura.render.seam import RenderAsset, RenderStream
from neura.storage import Storage
from neura.stt.base import STTEngine
from neura.stt.registry import create_stt
from neura.tts import TTSEngine, VoiceRef, create_tts, find_voice

log = logging.getLogger(__name__)

DEFAULT_AVATAR = "default"
KEPT_ASSETS = 8
BATCH_FRAMES = 2  # frames per render job while the avatar speaks; one while it is silent (live/tracks.py): new
# speech then shows from the next frame, 20 ms sooner on average than with two a job


async def _build_clients(llm: LLMProvider) -> None:
    """Build the providers' SDK clients now (the OpenAI one takes ~50 ms in a thread), not in the
    first turn the user waits for. Providers without a ``client()`` builder are left as they are."""
    for provider in getattr(llm, "providers", [llm]):
        build = getattr(provider, "client", None)
        if callable(build):
            try:
                await build()
            except LLMError as error:  # e.g. Gemini without a key: the turn reports it (or falls back)
                log.info("live: %s is not usable yet: %s", getattr(provider, "name", "llm"), error.message)


class LiveEngines:
    def __init__(
        self, settings: Settings, storage: Storage, *, avatar_px: int = 512, first_clause_tts_threads: int = 2
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.avatar_px = avatar_px
        self.first_clause_tts_threads = first_clause_tts_threads
        self.speech_executor = DeadlineExecutor(max_workers=2, thread_name_prefix="neura-live-speech")
        self.lipsync_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neura-live-lipsync")
        self.renderer = create_renderer(settings)
        # a renderer that batches streams together (torch) needs every session's job waiting at once
        threads = max(2, settings.live_max_sessions) if self.renderer.batches_streams else 2
        self.render_executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="neura-live-render")
        self.stt_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neura-live-stt")
        self._llms: dict[str, LLMProvider] = {}
        self._assets: OrderedDict[str, RenderAsset] = OrderedDict()
        self._lock = asyncio.Lock()

    async def llm(self, provider: str | None) -> LLMProvider:
        name = provider or "auto"
        async with self._lock:
            llm = self._llms.get(name)
            if llm is None:
                llm = create_llm(self.settings, None if name == "auto" else name)  # InputError: unknown name
                self._llms[name] = llm
                await _build_clients(llm)
            return llm

    async def tts(self, voice: VoiceRef | None) -> tuple[TTSEngine, TTSEngine]:
        """``voice`` (None: the deployment's default) twice: with several threads for the first clause of
        an answer (Piper's two threads take about 80 ms where one takes 120 for a short clause) and with
        one for the rest, which is synthesised ahead of playback, not waited for. Only voices of
        :func:`~neura.tts.list_voices` (UnknownVoiceError, or EngineUnavailableError when its engine is
        not installed here)."""
        ref = voice or VoiceRef.configured(self.settings)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.speech_executor, find_voice, ref, self.settings)
        threads = self.first_clause_tts_threads
        fast = await loop.run_in_executor(self.speech_executor, lambda: create_tts(ref, self.settings, threads=threads))
        steady = await loop.run_in_executor(self.speech_executor, lambda: create_tts(ref, self.settings, threads=1))
        return fast, steady

    async def stt(self) -> STTEngine | None:
        """The speech recognition engine (loaded once), or None when ``LIVE_VOICE`` is off or it cannot be
        loaded here (sessions then take text only; the reason is logged)."""
        if not self.settings.live_voice:
            return None
        loop = asyncio.get_running_loop()
        settings, threads = self.settings, self.settings.live_stt_threads
        try:
            return await loop.run_in_executor(self.stt_executor, lambda: create_stt(settings, threads=threads))
        except NeuraError as error:
            log.warning("live: sessions take text only, no speech recognition: %s", error.message)
            return None

    async def asset(self, avatar_id: uuid.UUID | None, asset_key: str | None) -> RenderAsset:
        """The renderer's asset of the default portrait, or the stored one of an avatar (``asset_key`` in
        object storage)."""
        key = DEFAULT_AVATAR if avatar_id is None else str(avatar_id)
        async with self._lock:
            asset = self._assets.get(key)
            if asset is None:
                asset = await self._load_asset(asset_key)
                self._assets[key] = asset
                while len(self._assets) > KEPT_ASSETS:
                    self._assets.popitem(last=False)
            self._assets.move_to_end(key)
            return asset

    async def _load_asset(self, asset_key: str | None) -> RenderAsset:
        if asset_key is None:
            from neura.pipeline.defaults import demo_avatar

            return await asyncio.get_running_loop().run_in_executor(
                self.render_executor,
                lambda: self.renderer.prepare(demo_avatar(), size_px=self.avatar_px, name="the demo avatar"),
            )
        return await load_stored_asset(
            self.storage, asset_key, self.avatar_px, self.renderer, executor=self.render_executor
        )

    async def warm_up(self) -> None:
        """Prepare what a default session needs (the demo portrait's rig, about 2 s of CPU; the default
        voice; the language model's client), so the first session of the process opens as fast as the
        next. Each part that fails is logged and left to the first session that needs it, which then
        reports the error itself."""
        parts: tuple[tuple[str, Callable[[], Awaitable[object]]], ...] = (
            ("avatar", lambda: self.asset(None, None)),
            ("voice", lambda: self.tts(None)),
            ("language model", lambda: self.llm(None)),
            ("speech recognition", self.stt),
        )
        for what, prepare in parts:
            try:
                await prepare()
            except (NeuraError, OSError) as error:
                log.warning("live: the default %s is not ready (the first session will try again): %s", what, error)
        # Everything loaded so far (models, SDKs, the default asset) lives as long as the process: freeze
        # it out of the collector's reach, so a full collection scans only what sessions allocate instead
        # of stalling every session's frames for hundreds of milliseconds (measured in tests/live/test_tracks).
        gc.collect()
        gc.freeze()

    def stream(self, asset: RenderAsset, seed: int) -> RenderStream:
        """A session's video: I420 frames at 25 fps, rendered a batch per job on the render executor."""
        return self.renderer.stream(
            asset, fps=FPS, seed=seed, output="i420", batch_frames=BATCH_FRAMES, executor=self.render_executor
        )

    async def close(self) -> None:
        for llm in self._llms.values():
            aclose = getattr(llm, "aclose", None)
            if aclose is not None:
                await aclose()
        self._llms.clear()
        self.speech_executor.shutdown(wait=False, cancel_futures=True)
        self.lipsync_executor.shutdown(wait=False, cancel_futures=True)
        self.render_executor.shutdown(wait=False, cancel_futures=True)
        self.stt_executor.shutdown(wait=False, cancel_futures=True)
