"""The signed-in account: profile, plan limits and credits."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from neura.billing import get_plan
from neura.db.models import CreditEntry
from neura.gateway.deps import CurrentUser, DbSession
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.accounts import CreditEntryPublic, CreditsPage, MePublic, PlanPublic, UserPublic
from neura.gateway.schemas.pagination import Paging

router = APIRouter(prefix="/v1/me", tags=["account"], dependencies=[RateLimited])


@router.get("", operation_id="getMe", summary="The signed-in user and the limits of their plan")
async def me(user: CurrentUser) -> MePublic:
    public = UserPublic.model_validate(user)
    return MePublic(**public.model_dump(), limits=PlanPublic.from_plan(get_plan(user.plan)))


@router.get(
    "/credits", operation_id="getCredits", summary="Credit balance and the ledger of every change, newest first"
)
async def credits(user: CurrentUser, session: DbSession, paging: Paging) -> CreditsPage:
    rows = await session.scalars(
        select(CreditEntry)
        .where(CreditEntry.user_id == user.id)
        .order_by(CreditEntry.id.desc())
        .limit(paging.fetch)
        .offset(paging.offset)
    )
    entries = [CreditEntryPublic.model_validate(row) for row in rows]
    return CreditsPage.of(entries, paging, balance=user.credits)
