"""``GET /v1/capabilities``: what the cluster can do now, as its workers and media processes advertise it
(for signed-in users: the members' ids name hosts)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from neura.gateway.deps import CurrentUser, State
from neura.gateway.ratelimit import RateLimited

router = APIRouter(prefix="/v1", tags=["operations"], dependencies=[RateLimited])


class GpuPublic(BaseModel):
    model: str
    free_memory_mb: int


class MemberPublic(BaseModel):
    id: str
    role: str = Field(description="worker (renders videos) or media (speech, avatars, live sessions)")
    tts_engines: list[str]
    tts_voices: list[str]
    render_backends: list[str]
    stt_engines: list[str]
    gpu: GpuPublic | None
    load: int = Field(description="renders (worker) or live sessions (media) running now")
    capacity: int
    draining: bool = Field(description="stopping: it finishes what it has and takes nothing new")


class ClusterCapabilities(BaseModel):
    tts_voices: list[str] = Field(description="voices some worker that takes new work can render now")
    render_backends: list[str]
    stt_engines: list[str]
    live_sessions_free: int = Field(description="live sessions the media processes can still open")
    members: list[MemberPublic]


@router.get(
    "/capabilities",
    operation_id="getCapabilities",
    summary="What the cluster can do now: voices, render backends, speech recognition, GPUs, load",
)
async def capabilities(state: State, user: CurrentUser) -> ClusterCapabilities:
    members = await state.capabilities.members()
    ready = [m for m in members if not m.draining]
    workers = [m for m in ready if m.role == "worker"]
    media = [m for m in ready if m.role == "media"]
    return ClusterCapabilities(
        tts_voices=sorted({v for m in workers for v in m.tts_voices}),
        render_backends=sorted({b for m in workers for b in m.render_backends}),
        stt_engines=sorted({e for m in media for e in m.stt_engines}),
        live_sessions_free=sum(max(0, m.capacity - m.load) for m in media),
        members=[
            MemberPublic(
                id=m.member_id,
                role=m.role,
                tts_engines=m.tts_engines,
                tts_voices=m.tts_voices,
                render_backends=m.render_backends,
                stt_engines=m.stt_engines,
                gpu=GpuPublic(model=m.gpu.model, free_memory_mb=m.gpu.free_memory_mb) if m.gpu else None,
                load=m.load,
                capacity=m.capacity,
                draining=m.draining,
            )
            for m in members
        ],
    )
