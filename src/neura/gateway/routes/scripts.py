"""Script drafts: ``POST /v1/scripts`` asks the language model for a script, to read and edit before a
video is rendered from it.

The same :class:`~neura.script.ScriptAgent` writes a prompt video's script on a worker; here it runs on
the event loop (it only waits on the language model: no media stack, no render worker). Each draft costs
:data:`~neura.billing.plans.CREDITS_PER_SCRIPT_DRAFT` credit, given back when no script comes back, and
a user may ask for ``SCRIPT_DRAFTS_PER_MINUTE`` a minute: every draft is a paid call to a model.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from neura.billing import get_plan
from neura.billing.plans import CREDITS_PER_SCRIPT_DRAFT
from neura.config import Settings
from neura.errors import ForbiddenError
from neura.gateway.deps import SpeechUser, State
from neura.gateway.metering import Charge, paid
from neura.gateway.ratelimit import RateLimited, limit_user
from neura.gateway.schemas.scripts import ScriptDraft, ScriptDraftRequest
from neura.gateway.state import AppState
from neura.jobs.videos import SCRIPT_WORDS_PER_S
from neura.llm import close_llm, create_llm
from neura.script import ScriptAgent, ScriptResult

router = APIRouter(prefix="/v1/scripts", tags=["scripts"], dependencies=[RateLimited])


async def write_draft(settings: Settings, prompt: str, duration_s: float) -> ScriptResult:
    """The script agent of prompt videos, with the language models the settings name, sized at the
    words per second a submission reserves for (so the draft's estimate is what its video reserves)."""
    llm = create_llm(settings)
    try:
        return await ScriptAgent(llm, words_per_second=SCRIPT_WORDS_PER_S).write(prompt, duration_s)
    finally:
        await close_llm(llm)


async def _limit_drafts(state: AppState, user_id: uuid.UUID) -> None:
    await limit_user(state.redis, state.settings, "script_drafts", user_id)


@router.post(
    "",
    operation_id="draftScript",
    summary="Draft a video's script from a prompt, to read and edit before rendering",
    responses={
        402: {"description": "too few credits for a draft (1 credit)"},
        403: {"description": "the plan does not allow videos this long"},
        422: {"description": "a bad field (`invalid_request`), or the model's answer stayed unusable (`llm_output`)"},
        429: {"description": "more than SCRIPT_DRAFTS_PER_MINUTE drafts a minute (or too many requests)"},
        502: {"description": "the language model failed (`llm`)"},
        503: {"description": "no language model could be reached (`llm_unavailable`)"},
    },
)
async def draft_script(body: ScriptDraftRequest, user: SpeechUser, state: State, response: Response) -> ScriptDraft:
    """The language model writes a script for `prompt`, sized for `duration_s`, exactly as it does for
    `POST /v1/videos {prompt}`: a JSON answer checked against the script schema and the word budget,
    one revision when it is unusable or off in length. The answer's `text` is the script file format
    that `POST /v1/videos {script}` takes, so a page can show it, let it be edited, and render it.

    **Credits**: one per draft (`credits_charged`, headers `X-Credits-Charged` and `X-Credits-Remaining`),
    given back when no script comes back. At most `SCRIPT_DRAFTS_PER_MINUTE` drafts a minute per user
    (default 10; 429 with `Retry-After` beyond).

    Errors: 503 `llm_unavailable` when no language model can be reached, 422 `llm_output` when the
    model's answer stays unusable after a revision, 502 `llm` when the model fails otherwise, 403 when
    the plan's longest video is shorter than `duration_s`, 402 without a credit.
    """
    plan = get_plan(user.plan)
    if body.duration_s > plan.max_video_s:
        raise ForbiddenError(
            f"the {plan.name} plan makes videos of up to {plan.max_video_s} s, not {body.duration_s:g} s",
            hint="ask for a shorter duration, or upgrade your plan",
        )
    await _limit_drafts(state, user.id)
    price = Charge(CREDITS_PER_SCRIPT_DRAFT, "script", "POST /v1/scripts", hint="a draft costs 1 credit")
    async with paid(state, user.id, price) as bill:
        result = await write_draft(state.settings, body.prompt, body.duration_s)
    response.headers.update(bill.headers())
    return ScriptDraft.from_result(result, credits_charged=bill.credits)
