"""This process's own capabilities (workers and media processes; never imported by the API role).

Only what can be known without loading a model: the voices whose files are installed (as
``GET /v1/voices`` lists them), the render backends, the speech recognition models, and the GPU as
``nvidia-smi`` reports it. ``engines`` narrows the TTS engines a worker takes (``neura worker
--capability``): a GPU worker can leave the cheap voices to CPU workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from redis.exceptions import RedisError

from neura.cluster.capabilities import Capabilities, CapabilityRegistry, Gpu, MemberRole
from neura.config import Settings
from neura.errors import InputError
from neura.tts.providers import TTS

log = logging.getLogger(__name__)

NVIDIA_SMI_TIMEOUT_S = 3.0


def parse_engines(text: str | Collection[str]) -> list[str]:
    """``"piper,espeak"`` (or a list) as engine names of the TTS table; empty: every engine."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    unknown = [n for n in names if n not in TTS]
    if unknown:
        raise InputError(f"unknown TTS engine(s): {', '.join(unknown)}", hint=f"choose among: {', '.join(TTS.names())}")
    return names


def gpu_info() -> Gpu | None:
    """The first GPU's model and free memory, if ``nvidia-smi`` is here and answers."""
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return None
    with contextlib.suppress(OSError, subprocess.SubprocessError, ValueError):
        answer = subprocess.run(
            [binary, "--query-gpu=name,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_S,
            check=True,
        )
        name, _, free = answer.stdout.splitlines()[0].rpartition(",")
        return Gpu(model=name.strip(), free_memory_mb=int(free.strip()))
    return None


def local_capabilities(
    settings: Settings, member_id: str, role: MemberRole, *, engines: Collection[str] = (), url: str = ""
) -> Capabilities:
    """What this process can run (load 0, not draining: :class:`Advertiser` keeps those current)."""
    from neura.render.providers import available_backends
    from neura.stt.registry import list_stt_models
    from neura.tts import list_voices

    voices = [v.id for v in list_voices(settings) if not engines or v.engine in engines]
    stt = [f"{m.engine}:{m.name}" for m in list_stt_models(settings)] if role == "media" else []
    return Capabilities(
        member_id=member_id,
        role=role,
        tts_voices=voices,
        render_backends=available_backends(),
        stt_engines=stt,
        gpu=gpu_info(),
        url=url,
    )


@dataclass
class Advertiser:
    """Re-advertises a process's capabilities every third of their TTL, with its current load."""

    registry: CapabilityRegistry
    capabilities: Capabilities
    load: Callable[[], int]
    capacity: int
    draining: bool = False

    def current(self) -> Capabilities:
        return replace(self.capabilities, load=self.load(), capacity=self.capacity, draining=self.draining)

    async def advertise(self) -> None:
        await self.registry.advertise(self.current())

    async def forever(self) -> None:
        interval_s = max(0.5, self.registry.ttl_s / 3)
        while True:
            try:
                await self.advertise()
            except RedisError as exc:
                log.warning("cannot advertise capabilities: %s", exc)
            await asyncio.sleep(interval_s)

    async def drain(self) -> None:
        """Tell the cluster to send nothing new here (readiness false first)."""
        self.draining = True
        with contextlib.suppress(RedisError):
            await self.advertise()

    async def withdraw(self) -> None:
        with contextlib.suppress(RedisError):
            await self.registry.withdraw(self.capabilities.member_id)
