"""The renderer seam, one for offline videos and live sessions (shaped like livekit's avatar plug-ins).

    renderer = create_renderer(settings)            # RENDER_BACKEND / RENDER_DEVICE, through the registry
    asset = renderer.prepare(photo, size_px=512)     # heavy, once per photo; renderer.dump_asset(asset) -> bytes
    stream = renderer.stream(asset, fps=25, seed=7, output="i420")
    stream.push_speech(SpeechTrack(samples, 48_000, mouth))   # audio + its per-frame mouth track
    frames = stream.render_next()                    # a batch of pts-stamped frames (blocking), or:
    async for frame in stream: ...                   # batches rendered on an executor, one frame at a time
    stream.clear_buffer()                            # an interrupt: queued speech is dropped, the mouth closes

A renderer is *pushed* timed speech and *read* as frames. Between speech it renders idle frames (the
head moves, the eyes blink), so a stream never runs dry. What the stream does with the speech is its own
business: the CPU warp reads only the mouth track, a neural renderer would read the audio windows.

This module holds what every backend shares: the speech buffer (pts -> mouth pose), the closing ramp
after a cut, the head's idle motion and speaking envelope, batching and async iteration. A backend
writes only :meth:`RenderStream._render` (poses in, images out) and the :class:`Renderer` around it.
Nothing outside :mod:`neura.render.providers` names a backend.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from neura.avatar.motion import IdleMotion, smooth_activity
from neura.media import MOUTH_CHANNELS, HeadPose, MouthPose

F32 = npt.NDArray[np.float32]
Image = npt.NDArray[np.uint8]
FrameFormat = Literal["rgb", "i420"]
"""``rgb``: (size, size, 3) uint8. ``i420``: (size * 3 // 2, size) uint8, BT.601 limited range (what
WebRTC decoders assume; the live track's format). Offline videos compose ``rgb`` into a layout."""

CLOSE_FRAMES = 2  # after a cut the mouth closes over this many frames (never snaps shut)
SPEAKING_GAIN = 2.0  # mouth opening -> speaking activity (livens the head's motion)
_CLOSED = np.zeros(MOUTH_CHANNELS, np.float32)


@dataclass(frozen=True)
class SpeechTrack:
    """Speech pushed into a stream: mono float32 audio and the mouth pose of every frame from its first
    sample (frame i shows time i / fps after the start; ``mouth`` is (frames, MOUTH_CHANNELS))."""

    samples: F32
    sample_rate_hz: int
    mouth: F32

    def __post_init__(self) -> None:
        if self.mouth.ndim != 2 or self.mouth.shape[1] != MOUTH_CHANNELS:
            raise ValueError(f"mouth must be (frames, {MOUTH_CHANNELS}), got {self.mouth.shape}")


@dataclass(frozen=True)
class RenderedFrame:
    """Frame ``pts`` (time ``pts / fps``) of a stream. ``image`` is valid until the stream renders its
    next batch (backends reuse their buffers): copy it to keep it."""

    pts: int
    image: Image
    mouth: F32  # the pose it shows (MOUTH_CHANNELS values)
    speaking: float  # the head's speaking envelope, 0..1


@runtime_checkable
class RenderAsset(Protocol):
    """What :meth:`Renderer.prepare` makes of a photo: serialisable (``Renderer.dump_asset``) and stored
    per asset kind with the avatar. Outside ``roi`` every frame equals ``image`` exactly."""

    size_px: int
    image: Image  # (size_px, size_px, 3): the avatar at rest
    roi: tuple[int, int, int, int]  # x0, y0, x1, y1
    warnings: list[str]


class RenderStream:
    """One avatar's frames for one video or live session. Thread-safe between one reader (``render_next``
    or async iteration) and writers (``push_speech``, ``clear_buffer``) on other threads."""

    def __init__(
        self,
        asset: RenderAsset,
        *,
        fps: int = 25,
        seed: int = 0,
        output: FrameFormat = "rgb",
        batch_frames: int = 4,
        executor: Executor | None = None,
    ) -> None:
        if batch_frames < 1:
            raise ValueError(f"batch_frames must be 1 or more, got {batch_frames}")
        self.asset = asset
        self.fps = fps
        self.output: FrameFormat = output
        self.batch_frames = batch_frames
        self.executor = executor
        self.motion = IdleMotion(seed, size_px=asset.size_px)
        self._lock = threading.Lock()
        self._next_pts = 0
        self._speech: list[tuple[int, F32]] = []  # (first pts, mouth track), in pts order, not overlapping
        self._closing_from: int | None = None
        self._closing_pose = _CLOSED
        self._last_pose = _CLOSED
        self._speaking = 0.0
        self._ready: list[RenderedFrame] = []
        self._floor_pts = 0  # frames before this one are never handed out (skip_to)

    # --- writers
    @property
    def next_pts(self) -> int:
        """The first frame not rendered yet: speech pushed now can start there at the earliest."""
        return self._next_pts

    def queued_end_pts(self) -> int:
        """The frame after the last one of the queued speech (``next_pts`` when none is queued)."""
        with self._lock:
            return max([self._next_pts, *(start + len(mouth) for start, mouth in self._speech)])

    def push_speech(self, speech: SpeechTrack, *, start_pts: int | None = None) -> int:
        """Queue ``speech`` from frame ``start_pts`` (None: right after the speech already queued); frames
        already rendered are never changed, so a ``start_pts`` in the past is moved to ``next_pts``.
        Returns the frame it starts on."""
        with self._lock:
            end = max([self._next_pts, *(s + len(m) for s, m in self._speech)])
            start = end if start_pts is None else max(start_pts, self._next_pts)
            self._speech = [(s, m[: max(0, start - s)]) for s, m in self._speech if s < start]
            self._speech.append((start, np.asarray(speech.mouth, np.float32)))
            self._closing_from = None
            self._on_speech(speech, start)
            return start

    def clear_buffer(self) -> None:
        """Stop speaking now: drop what is queued, close the mouth over :data:`CLOSE_FRAMES` frames."""
        with self._lock:
            self._speech = []
            self._closing_from = self._next_pts
            self._closing_pose = self._last_pose
            self._on_clear()

    def skip_to(self, pts: int) -> None:
        """Render from frame ``pts`` on (a reader that fell behind the clock); never backwards."""
        with self._lock:
            self._next_pts = max(self._next_pts, pts)
            self._floor_pts = max(self._floor_pts, pts)
            self._ready = [f for f in self._ready if f.pts >= self._floor_pts]

    # --- readers
    def render_next(self, n_frames: int | None = None) -> list[RenderedFrame]:
        """The next ``n_frames`` frames (default ``batch_frames``), rendered in one batch. Blocking."""
        n = self.batch_frames if n_frames is None else n_frames
        with self._lock:
            first = self._next_pts
            mouths = [self._pose_at(first + i) for i in range(n)]
            self._next_pts = first + n
            self._forget_played()
        opening = np.array([m[0] for m in mouths], np.float32)
        levels = smooth_activity(np.minimum(1.0, opening * SPEAKING_GAIN), self.fps, initial=self._speaking)
        if n:
            self._speaking = float(levels[-1])
        heads = [self.motion.head_pose((first + i) / self.fps, speaking=float(levels[i])) for i in range(n)]
        poses = [MouthPose(*(float(v) for v in m)) for m in mouths]
        images = self._render(poses, heads)
        return [RenderedFrame(first + i, images[i], mouths[i], float(levels[i])) for i in range(n)]

    def __aiter__(self) -> AsyncIterator[RenderedFrame]:
        return self

    async def __anext__(self) -> RenderedFrame:
        """The next frame; a batch is rendered on ``executor`` when none is left. Never ends (idle
        frames between speech): the reader paces it."""
        while not self._ready:
            batch = await asyncio.get_running_loop().run_in_executor(self.executor, self.render_next)
            with self._lock:
                self._ready = [f for f in batch if f.pts >= self._floor_pts]
        return self._ready.pop(0)

    def close(self) -> None:
        """Release what the backend holds for this stream (device memory, a place in a batcher)."""

    # --- what a backend writes
    def _render(self, mouths: Sequence[MouthPose], heads: Sequence[HeadPose]) -> Sequence[Image]:
        """Images for paired poses, in order, in ``self.output``'s format."""
        raise NotImplementedError

    def _on_speech(self, speech: SpeechTrack, start_pts: int) -> None:
        """Called (under the stream's lock) with each pushed speech: an audio-driven backend keeps its
        audio; the warp needs only the mouth track, which the base keeps."""

    def _on_clear(self) -> None:
        """Called (under the stream's lock) on :meth:`clear_buffer`: drop buffered audio."""

    # --- the pose buffer
    def _pose_at(self, pts: int) -> F32:
        pose = _CLOSED
        for start, mouth in self._speech:
            if start <= pts < start + len(mouth):
                pose = mouth[pts - start]
                self._closing_from = None
                break
        else:
            if self._closing_from is not None:
                step = pts - self._closing_from
                if 0 <= step < CLOSE_FRAMES:
                    pose = (self._closing_pose * (1.0 - (step + 1) / (CLOSE_FRAMES + 1))).astype(np.float32)
                elif step >= CLOSE_FRAMES:
                    self._closing_from = None
        self._last_pose = pose
        return pose

    def _forget_played(self) -> None:
        self._speech = [(s, m) for s, m in self._speech if s + len(m) > self._next_pts]


class Renderer(Protocol):
    """A render backend: makes assets from photos and streams of frames from assets.

    ``asset_kind`` names the asset format: backends of the same kind share stored assets (the CPU warp
    and the torch warp both read the ``rig``)."""

    name: str
    asset_kind: str
    device: str

    def prepare(self, photo: Image, *, size_px: int, name: str = "the photo") -> RenderAsset:
        """The asset of a photo (blocking, heavy: face landmarks, warp bases, latents)."""
        ...

    def dump_asset(self, asset: RenderAsset) -> bytes: ...

    def load_asset(self, data: bytes) -> RenderAsset:
        """An asset from :meth:`dump_asset`'s bytes; a ``ValueError`` when unreadable or outdated
        (rebuild it from the photo)."""
        ...

    def stream(
        self,
        asset: RenderAsset,
        *,
        fps: int = 25,
        seed: int = 0,
        output: FrameFormat = "rgb",
        batch_frames: int = 4,
        executor: Executor | None = None,
    ) -> RenderStream: ...

    def still(self, asset: RenderAsset, *, seed: int = 0) -> Image:
        """The avatar at rest (mouth closed, eyes open; the head where ``seed``'s motion starts), RGB."""
        ...


def at_rest(head: HeadPose) -> HeadPose:
    """``head`` with the eyes open and the brows relaxed (a still)."""
    return dataclasses.replace(head, blink_left=0.0, blink_right=0.0, brow=0.0)
