"""The renderer table: every render backend's name, one line each (like the tts, llm and stt tables).

    RENDERERS.add("cpu", _cpu, "...")     # a factory (device) -> Renderer

``RENDER_BACKEND`` picks one (``auto``: the torch warp where torch sees a CUDA device, else the CPU
warp) and ``RENDER_DEVICE`` the device it runs on (``auto``, ``cpu``, ``cuda``, ``cuda:1``). This is
the only module that names a backend; factories import their engine when called, so reading the
names (settings validation does) costs nothing.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from neura.errors import EngineUnavailableError
from neura.providers import ProviderTable

if TYPE_CHECKING:
    from neura.config import Settings
    from neura.render.seam import Renderer

AUTO = "auto"
NVIDIA_DRIVER = Path("/proc/driver/nvidia/version")  # present while the NVIDIA kernel driver is loaded (Linux)
RENDERERS: ProviderTable[Renderer] = ProviderTable("render", setting="RENDER_BACKEND")


def _cpu(device: str) -> Renderer:
    if device not in (AUTO, "cpu"):
        raise EngineUnavailableError(
            f"the cpu renderer runs only on the CPU, not on {device!r}",
            hint="set RENDER_DEVICE=auto (or cpu), or RENDER_BACKEND=torch for a GPU",
        )
    from neura.render.cpu_renderer import CpuRenderer

    return CpuRenderer()


def _torch(device: str) -> Renderer:
    from neura.render.torch_renderer import TorchRenderer

    return TorchRenderer(device)


RENDERERS.add("cpu", _cpu, "numpy/OpenCV warp of the photo: one core per live session (bundled)")
RENDERERS.add("torch", _torch, "the same warp in PyTorch, batched on a GPU (or CPU torch)", extra="gpu")


def _cuda_available() -> bool:
    if not NVIDIA_DRIVER.exists():  # no NVIDIA driver loaded: no CUDA, and no need to import torch (seconds)
        return False
    try:
        import torch
    except ImportError:  # torch is the optional extra neura[gpu]
        return False
    return bool(torch.cuda.is_available())


def resolve_backend(name: str, device: str) -> str:
    """The backend ``name`` stands for: ``auto`` is torch when a CUDA device is wanted or available."""
    if name != AUTO:
        return name
    if device.startswith("cuda") or (device == AUTO and _cuda_available()):
        return "torch"
    return "cpu"


def available_backends() -> list[str]:
    """The backends this process could run: what it advertises to the cluster (torch is found without
    importing it, which takes seconds)."""
    return sorted(name for name in RENDERERS.names() if name != "torch" or importlib.util.find_spec("torch"))


def create_renderer(settings: Settings) -> Renderer:
    """The renderer the settings choose (RENDER_BACKEND, RENDER_DEVICE). EngineUnavailableError when
    it is not installed here (torch without ``neura[gpu]``) or cannot use the device."""
    return _renderer(resolve_backend(settings.render_backend, settings.render_device), settings.render_device)


@functools.lru_cache(maxsize=4)
def _renderer(name: str, device: str) -> Renderer:
    """One renderer per (backend, device) and process: renderers are thread-safe, and the torch one
    batches the frames of every stream it serves."""
    return RENDERERS.create(name, device)
