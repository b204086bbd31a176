"""Plans and their limits (public)."""

from __future__ import annotations

from fastapi import APIRouter

from neura.billing import PLANS
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.accounts import PlanList, PlanPublic

router = APIRouter(prefix="/v1/plans", tags=["account"], dependencies=[RateLimited])


@router.get("", summary="Every plan and what it allows (one credit buys one second of video)")
async def list_plans() -> PlanList:
    return PlanList(items=[PlanPublic.from_plan(plan) for plan in PLANS.values()])
