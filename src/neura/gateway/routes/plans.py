"""Plans and their limits (public)."""

from __future__ import annotations

from fastapi import APIRouter

from neura.billing import PLANS
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.accounts import PlanList, PlanPublic

router = APIRouter(prefix="/v1/plans", tags=["account"], dependencies=[RateLimited])


@router.get(
    "",
    operation_id="listPlans",
    summary="Every plan and what it allows (a credit: 1 s of video, 6 s of live, 1,000 speech characters)",
)
async def list_plans() -> PlanList:
    return PlanList(items=[PlanPublic.from_plan(plan) for plan in PLANS.values()])
