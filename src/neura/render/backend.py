"""The render seam: a backend turns (rig, mouth pose, head pose) into one RGB avatar frame.

The CPU backend (numpy + OpenCV) is the default. A GPU backend can implement the same protocol and
override :meth:`RenderBackend.render_batch` to render many frames per call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from neura.avatar.rig import AvatarRig
from neura.errors import EngineUnavailableError
from neura.media import HeadPose, MouthPose

RGBFrame = npt.NDArray[np.uint8]


@runtime_checkable
class RenderBackend(Protocol):
    name: str

    def render(self, rig: AvatarRig, mouth: MouthPose, head: HeadPose, *, out: RGBFrame | None = None) -> RGBFrame:
        """One frame: RGB uint8 of shape (rig.size_px, rig.size_px, 3). A new array, or written into
        ``out`` (a frame this backend rendered before for the same rig) and returned."""
        ...

    def render_batch(self, rig: AvatarRig, mouths: Sequence[MouthPose], heads: Sequence[HeadPose]) -> list[RGBFrame]:
        """Frames for paired poses, in order."""
        ...


class LoopBatchMixin:
    """``render_batch`` as a plain loop over ``render``, for backends that gain nothing by batching."""

    def render(self, rig: AvatarRig, mouth: MouthPose, head: HeadPose, *, out: RGBFrame | None = None) -> RGBFrame:
        raise NotImplementedError

    def render_batch(self, rig: AvatarRig, mouths: Sequence[MouthPose], heads: Sequence[HeadPose]) -> list[RGBFrame]:
        if len(mouths) != len(heads):
            raise ValueError(f"{len(mouths)} mouth poses but {len(heads)} head poses")
        return [self.render(rig, m, h) for m, h in zip(mouths, heads, strict=True)]


def _cpu() -> RenderBackend:
    from neura.render.cpu import CpuBackend

    return CpuBackend()


_BACKENDS: dict[str, Callable[[], RenderBackend]] = {"cpu": _cpu}


def available_backends() -> list[str]:
    return sorted(_BACKENDS)


def get_backend(name: str = "cpu") -> RenderBackend:
    """A render backend by name (``"cpu"``)."""
    factory = _BACKENDS.get(name.lower())
    if factory is None:
        raise EngineUnavailableError(
            f"render backend {name!r} is not available",
            hint=f"choose one of: {', '.join(available_backends())}",
        )
    return factory()
