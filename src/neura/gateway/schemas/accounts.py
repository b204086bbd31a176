"""Users, sessions, plans and credits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from neura.accounts.users import EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, normalise_email
from neura.billing import Plan
from neura.gateway.schemas.pagination import Page
from neura.gateway.schemas.text import STORABLE

Email = Annotated[
    str, Field(max_length=EMAIL_MAX_CHARS, examples=["ada@example.com"]), STORABLE, AfterValidator(normalise_email)
]
Password = Annotated[str, Field(min_length=PASSWORD_MIN_CHARS, max_length=PASSWORD_MAX_CHARS), STORABLE]


class UserCreate(BaseModel):
    email: Email
    password: Password


class LoginRequest(BaseModel):
    email: Annotated[str, Field(min_length=1, max_length=EMAIL_MAX_CHARS), STORABLE]
    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_CHARS), STORABLE]


class RefreshRequest(BaseModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096), STORABLE]


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    plan: str
    credits: int
    created_at: datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")


class AuthSession(TokenPair):
    user: UserPublic


class PlanPublic(BaseModel):
    name: str
    monthly_credits: int
    max_video_s: int
    max_resolution: str
    concurrent_jobs: int
    live_minutes: int
    concurrent_live_sessions: int

    @classmethod
    def from_plan(cls, plan: Plan) -> PlanPublic:
        return cls(**plan.as_dict())


class PlanList(BaseModel):
    items: list[PlanPublic]


class MePublic(UserPublic):
    limits: PlanPublic


class CreditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    delta: int
    balance_after: int
    reason: str
    video_id: uuid.UUID | None
    note: str | None
    created_at: datetime


class CreditsPage(Page[CreditEntryPublic]):
    balance: int
