"""``POST /v1/videos/estimate``: what ``POST /v1/videos`` would reserve for the same body, reserving nothing."""

from __future__ import annotations

from fastapi import APIRouter

from neura.gateway.capacity import usable_voice
from neura.gateway.deps import CurrentUser, DbSession, State
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.estimates import VideoEstimate
from neura.gateway.schemas.videos import VideoCreate
from neura.jobs.videos import quote_video

router = APIRouter(prefix="/v1/videos", tags=["videos"], dependencies=[RateLimited])


@router.post(
    "/estimate",
    operation_id="estimateVideo",
    summary="What a video would cost: the body of POST /v1/videos, priced without submitting it",
    responses={
        403: {"description": "the plan does not allow this resolution or length (as a submission would answer)"},
        422: {"description": "a bad field, a script with nothing to speak, an unknown voice or avatar"},
        503: {"description": "the voice's engine is not installed on this server, or no worker can render it now"},
    },
)
async def estimate_video(body: VideoCreate, user: CurrentUser, session: DbSession, state: State) -> VideoEstimate:
    """Checks and prices the body with the function a submission uses (the same 403 and 422 answers),
    and reserves nothing, queues nothing and charges nothing. A submission also answers 402 when the
    balance is below `credits_reserved` (`enough_credits` says so here) and 429 when the plan's
    videos in progress are all taken; those depend on the moment and are not checked here."""
    voice = await usable_voice(state, body.voice)
    quote = await quote_video(session, user, body.spec(voice))
    return VideoEstimate.of(quote, voice=str(voice), balance=user.credits)
