"""The torch renderer: the CPU warp's maths in PyTorch, batched across frames *and* streams on one device.

Install with ``pip install 'neura[gpu]'``; CUDA when torch sees a device (``RENDER_DEVICE=auto``), else
CPU torch (slower than the OpenCV warp: for tests and machines without a GPU). Same asset as the CPU
renderer (the ``rig``), same frames within a stated tolerance (tests/render/test_torch.py).

Per pass, for every frame of every stream that asked (:class:`FrameBatcher`):

- on the host, per frame, only what is a handful of numbers or a tiny box: the head's similarity and
  the field strengths, where the mouth and eye fields sit, and the drawn parts (the mouth interior
  painted from the rig's layers, the lips' line, the lids' coverage: :func:`neura.render.cpu.drawn_parts`);
- on the device, for all frames at once: the backward map (head fields at quarter resolution,
  upsampled bilinearly, plus the mouth and eye fields), one ``grid_sample`` of every frame's photo,
  the drawn parts blended in, the conversion to I420 (BT.601 limited range, chroma from each 2x2
  block's first pixel, as OpenCV's conversion that the CPU renderer uses) or RGB, and one copy of the
  whole batch to the host, which the encoder reads in place (no copy per frame).
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from neura.avatar import IdleMotion
from neura.avatar.eye_basis import HEAD_MASK_STEP_PX
from neura.avatar.eyelids import Blink
from neura.avatar.mouth_interior import Overlay
from neura.avatar.rig import AvatarRig
from neura.errors import EngineUnavailableError
from neura.media import MOUTH_CLOSED, HeadPose, MouthPose
from neura.render.cpu import CpuBackend, HeadMotion, WarpState, drawn_parts, field_shift, mouth_coefficients
from neura.render.cpu_renderer import RigRenderer, as_rig
from neura.render.seam import FrameFormat, Image, RenderAsset, RenderStream, at_rest

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the factory turns this into an install hint
    torch = None  # type: ignore[assignment]

GATHER_S = 0.002  # a pass waits this long for other streams' frames after the first request arrives
FrameRequest = tuple[AvatarRig, MouthPose, HeadPose]


@dataclass
class _Job:
    frames: list[FrameRequest]
    output: FrameFormat
    future: Future[list[Image]]


class FrameBatcher:
    """One thread that renders, in one pass, the frames every stream has asked for meanwhile.

    A stream's reader calls :meth:`render` (blocking) from its own thread; the batcher takes the first
    request, waits ``gather_s`` for more, and renders all of them together (each output format in one
    pass). While a pass runs on the device, new requests queue up and form the next one, so the batch
    grows with the load: under many live sessions, one pass renders the next frames of all of them.
    """

    def __init__(self, render: Callable[[list[FrameRequest], FrameFormat], list[Image]], gather_s: float = GATHER_S):
        self._render = render
        self.gather_s = gather_s
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.passes: list[tuple[int, int]] = []  # (requests, frames) of recent passes, newest last

    def render(self, frames: list[FrameRequest], output: FrameFormat) -> list[Image]:
        job = _Job(frames, output, Future())
        self._queue.put(job)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="neura-render-batcher", daemon=True)
                self._thread.start()
        return job.future.result()

    def _run(self) -> None:
        while True:
            jobs = [self._queue.get()]
            if self.gather_s > 0:
                threading.Event().wait(self.gather_s)
            while True:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for output in {job.output for job in jobs}:
                self._serve([job for job in jobs if job.output == output], output)

    def _serve(self, jobs: list[_Job], output: FrameFormat) -> None:
        frames = [frame for job in jobs for frame in job.frames]
        try:
            images = self._render(frames, output)
        except Exception as exc:  # handed to every waiting stream, whose reader reports it
            for job in jobs:
                job.future.set_exception(exc)
            return
        self.passes = [*self.passes[-99:], (len(jobs), len(frames))]
        start = 0
        for job in jobs:
            job.future.set_result(images[start : start + len(job.frames)])
            start += len(job.frames)


@dataclass
class _DeviceRig:
    """A rig's arrays on the device (uploaded once, kept while the rig lives)."""

    image: Any  # (3, S, S) float32, 0..255
    grid_low: Any  # (hl, wl, 2)
    head_fields: Any  # (4, hl, wl, 2)
    mouth_fields: Any  # (7, mh, mw, 2)
    eye_fields: Any  # (1, eh, ew, 2)
    roi_mask: Any  # (1, S, S) bool


@dataclass
class _Plan:
    """One frame's host-side part: numbers and tiny boxes."""

    rig: AvatarRig
    state: WarpState
    head: tuple[float, float, float, float]
    mouth: list[float]
    brow: float
    mouth_at: tuple[int, int]
    eye_at: tuple[int, int]
    overlays: list[Overlay]
    blinks: list[Blink]


def _plan(rig: AvatarRig, mouth: MouthPose, head: HeadPose) -> _Plan:
    state = CpuBackend.state(rig)
    motion = HeadMotion.of(head, rig.head_pivot)
    coefs = mouth_coefficients(mouth)
    overlays, blinks = drawn_parts(rig, state, mouth, head, motion, coefs)
    return _Plan(
        rig,
        state,
        motion.backward_coefficients(),
        coefs,
        min(max(head.brow, 0.0), 1.0),
        field_shift(state.roi_shape, state.mouth_box, state.mouth_anchor, motion),
        field_shift(state.roi_shape, state.eye_box, state.eye_anchor, motion),
        overlays,
        blinks,
    )


class TorchRenderer(RigRenderer):
    """The warp in PyTorch on ``device`` (``auto``: CUDA when available, else CPU torch)."""

    name = "torch"

    def __init__(self, device: str = "auto", *, gather_s: float = GATHER_S) -> None:
        if torch is None:
            raise EngineUnavailableError(
                "the torch renderer needs PyTorch, which is not installed here",
                hint="pip install 'neura[gpu]' (or set RENDER_BACKEND=cpu)",
            )
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise EngineUnavailableError(
                f"RENDER_DEVICE={device} but torch sees no CUDA device here", hint="set RENDER_DEVICE=auto or cpu"
            )
        self.device = device
        self.batcher = FrameBatcher(self.render_frames, gather_s)
        self._rigs: weakref.WeakKeyDictionary[AvatarRig, _DeviceRig] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._grids: dict[int, Any] = {}  # size -> (S, S, 2) pixel coordinates

    def stream(self, asset: RenderAsset, **options: Any) -> TorchStream:
        return TorchStream(as_rig(asset), self, **options)

    def still(self, asset: RenderAsset, *, seed: int = 0) -> Image:
        rig = as_rig(asset)
        head = at_rest(IdleMotion(seed, size_px=rig.size_px).head_pose(0.0))
        return self.render_frames([(rig, MOUTH_CLOSED, head)], "rgb")[0]

    # --- one pass
    def render_frames(self, frames: Sequence[FrameRequest], output: FrameFormat) -> list[Image]:
        """Frames for (rig, mouth, head) requests, any rigs, in one pass per avatar size. Blocking."""
        images: list[Image | None] = [None] * len(frames)
        sizes = sorted({rig.size_px for rig, _, _ in frames})
        with torch.inference_mode():
            for size in sizes:
                index = [i for i, (rig, _, _) in enumerate(frames) if rig.size_px == size]
                plans = [_plan(*frames[i]) for i in index]
                host = self._pass(plans, size, output).cpu().numpy()  # the one copy to the host
                for j, i in enumerate(index):
                    images[i] = host[j]
        return [image for image in images if image is not None]

    def _pass(self, plans: list[_Plan], size: int, output: FrameFormat) -> Any:
        rigs = [self._device_rig(plan.rig) for plan in plans]
        grid = self._identity(size).expand(len(plans), size, size, 2).clone()
        for rig in {id(plan.rig): plan.rig for plan in plans}.values():
            members = [j for j, plan in enumerate(plans) if plan.rig is rig]
            x0, y0, x1, y1 = rig.roi
            grid[members, y0:y1, x0:x1] = self._maps([plans[j] for j in members], rigs[members[0]])
        grid = grid * (2.0 / (size - 1)) - 1.0
        photos = torch.stack([r.image for r in rigs])
        warped = F.grid_sample(photos, grid, mode="bilinear", padding_mode="reflection", align_corners=True)
        # outside each ROI the frame is the photo, exactly
        frames = torch.where(torch.stack([r.roi_mask for r in rigs]), warped, photos)
        for j, plan in enumerate(plans):
            for overlay in plan.overlays:
                self._blend(frames[j], overlay)
            for blink in plan.blinks:
                self._blink(frames[j], blink)
        frames = frames.clamp_(0.0, 255.0).round_()
        if output == "rgb":
            return frames.permute(0, 2, 3, 1).to(torch.uint8).contiguous()
        return _i420(frames)

    def _maps(self, plans: list[_Plan], rig: _DeviceRig) -> Any:
        """Backward maps (n, h, w, 2) of one rig's ROI: absolute source pixel coordinates."""
        state = plans[0].state
        h, w = state.roi_shape
        pad = HEAD_MASK_STEP_PX
        head = self._tensor(np.array([p.head for p in plans], np.float32))
        low = rig.grid_low + torch.einsum("nk,khwc->nhwc", head, rig.head_fields)
        big = F.interpolate(low.permute(0, 3, 1, 2), size=(h + 2 * pad, w + 2 * pad), mode="bilinear")
        maps = big[:, :, pad:-pad, pad:-pad].permute(0, 2, 3, 1).contiguous()
        mouth = torch.einsum(
            "nk,khwc->nhwc", self._tensor(np.array([p.mouth for p in plans], np.float32)), rig.mouth_fields
        )
        eyes = torch.einsum(
            "nk,khwc->nhwc", self._tensor(np.array([[p.brow] for p in plans], np.float32)), rig.eye_fields
        )
        for j, plan in enumerate(plans):
            for field, box, (sx, sy) in (
                (mouth[j], state.mouth_box, plan.mouth_at),
                (eyes[j], state.eye_box, plan.eye_at),
            ):
                maps[j, box[1] + sy : box[3] + sy, box[0] + sx : box[2] + sx] += field
        return maps

    def _weighted(self, coefficients: Sequence[Sequence[float]], fields: Any) -> Any:
        """Per frame, the sum of ``fields`` (k, h, w, 2) weighted by its coefficients: (n, h, w, 2)."""
        return torch.einsum("nk,khwc->nhwc", self._tensor(np.array(coefficients, np.float32)), fields)

    def _blend(self, frame: Any, overlay: Overlay) -> None:
        x0, y0, x1, y1 = overlay.box
        patch = frame[:, y0:y1, x0:x1]
        alpha = self._tensor(overlay.alpha)[None]
        if overlay.colour.ndim == 3:
            colour = self._tensor(np.ascontiguousarray(overlay.colour.transpose(2, 0, 1)), torch.float32)
        else:
            colour = self._tensor(overlay.colour)[:, None, None]
        patch += (colour - patch) * alpha

    def _blink(self, frame: Any, blink: Blink) -> None:
        x0, y0, x1, y1 = blink.box
        rows = self._tensor(blink.rows, torch.long)
        cols = torch.arange(x0, x1, device=self.device)
        above = frame[:, rows, cols].clamp(0.0, 255.0).round()  # (3, w): the skin above the eye, this frame
        above = F.avg_pool1d(F.pad(above[None], (2, 2), mode="reflect"), 5, stride=1)[0]
        colours = self._tensor(blink.colours)
        lid = self._tensor(blink.shade)[None] * (0.5 * above + 0.5 * colours[0][:, None])[:, None, :]
        lid += (colours[1][:, None, None] - lid) * self._tensor(blink.lash)[None]
        patch = frame[:, y0:y1, x0:x1]
        patch += (lid - patch) * self._tensor(blink.alpha)[None]

    # --- device memory
    def _tensor(self, array: np.ndarray, dtype: Any = None) -> Any:
        return torch.as_tensor(array, dtype=dtype or torch.float32).to(self.device, non_blocking=True)

    def _identity(self, size: int) -> Any:
        grid = self._grids.get(size)
        if grid is None:
            ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
            grid = self._grids[size] = torch.stack([xs, ys], dim=-1).to(self.device, torch.float32)
        return grid

    def _device_rig(self, rig: AvatarRig) -> _DeviceRig:
        with self._lock:
            found = self._rigs.get(rig)
            if found is None:
                state = CpuBackend.state(rig)
                x0, y0, x1, y1 = rig.roi
                mask = torch.zeros((1, rig.size_px, rig.size_px), dtype=torch.bool)
                mask[:, y0:y1, x0:x1] = True
                found = self._rigs[rig] = _DeviceRig(
                    image=self._tensor(np.ascontiguousarray(rig.image.transpose(2, 0, 1))),
                    grid_low=self._tensor(state.grid_low),
                    head_fields=self._tensor(state.head_fields),
                    mouth_fields=self._tensor(np.stack(state.mouth_fields)),
                    eye_fields=self._tensor(np.stack(state.eye_fields)),
                    roi_mask=mask.to(self.device),
                )
            return found


def _i420(frames: Any) -> Any:
    """(n, 3, S, S) RGB 0..255 (whole numbers) -> (n, S * 3 // 2, S) uint8 I420, BT.601 limited range."""
    n, _, size, _ = frames.shape
    r, g, b = frames[:, 0], frames[:, 1], frames[:, 2]
    y = 16.0 + 0.257 * r + 0.504 * g + 0.098 * b
    rs, gs, bs = r[:, ::2, ::2], g[:, ::2, ::2], b[:, ::2, ::2]
    u = 128.0 - 0.148 * rs - 0.291 * gs + 0.439 * bs
    v = 128.0 + 0.439 * rs - 0.368 * gs - 0.071 * bs
    planes = [y.reshape(n, -1), u.reshape(n, -1), v.reshape(n, -1)]
    return torch.cat(planes, dim=1).round_().clamp_(0, 255).to(torch.uint8).reshape(n, size * 3 // 2, size)


class TorchStream(RenderStream):
    """A stream whose batches go through the renderer's :class:`FrameBatcher` (shared by all streams)."""

    def __init__(self, rig: AvatarRig, renderer: TorchRenderer, **options: Any) -> None:
        super().__init__(rig, **options)
        self.rig = rig
        self.renderer = renderer

    def _render(self, mouths: Sequence[MouthPose], heads: Sequence[HeadPose]) -> Sequence[Image]:
        frames = [(self.rig, m, h) for m, h in zip(mouths, heads, strict=True)]
        return self.renderer.batcher.render(frames, self.output)
