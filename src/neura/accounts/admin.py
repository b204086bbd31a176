"""What an operator does to accounts without SQL (``neura users``): list them, change a plan, grant or take
credits. Every change goes through the credit ledger (:mod:`neura.billing.ledger`), so the ledger
tells the whole history of an account: a change of plan is an entry of 0 credits (reason ``plan``),
credits given or taken by an operator are entries with reason ``operator``; both carry the operator's
reason in the note.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from neura import billing
from neura.accounts.users import normalise_email
from neura.billing import PLANS
from neura.db.models import User
from neura.errors import InputError, NotFoundError

NOTE_MAX_CHARS = 200  # credit_ledger.note
DEFAULT_LIST_LIMIT = 100


@dataclass(frozen=True)
class AccountSummary:
    id: uuid.UUID
    email: str
    plan: str
    credits: int
    created_at: datetime
    is_active: bool


@dataclass(frozen=True)
class PlanChange:
    email: str
    before: str
    after: str
    credits: int


@dataclass(frozen=True)
class CreditChange:
    email: str
    delta: int
    balance: int


async def list_accounts(session: AsyncSession, *, limit: int = DEFAULT_LIST_LIMIT) -> list[AccountSummary]:
    """The newest ``limit`` accounts, newest first."""
    rows = await session.scalars(select(User).order_by(User.created_at.desc(), User.email).limit(limit))
    return [AccountSummary(u.id, u.email, u.plan, u.credits, u.created_at, u.is_active) for u in rows]


async def set_plan(session: AsyncSession, email: str, plan: str, *, reason: str) -> PlanChange:
    """Move the account to ``plan`` (one of :data:`neura.billing.PLANS`); a ledger entry records it."""
    name = plan.strip().lower()
    if name not in PLANS:
        raise InputError(f"there is no plan {plan!r}", hint=f"choose one of: {', '.join(PLANS)}")
    user = await _locked_user(session, email)
    before = user.plan
    await session.execute(update(User).where(User.id == user.id).values(plan=name))
    credits = await billing.record_plan_change(session, user.id, _note(f"{before} -> {name}", reason))
    return PlanChange(user.email, before, name, credits)


async def grant_credits(session: AsyncSession, email: str, amount: int, *, reason: str) -> CreditChange:
    """Give (``amount`` > 0) or take (< 0) credits; :class:`InputError` if the balance would go below zero."""
    user = await _locked_user(session, email)
    balance = await billing.adjust(session, user.id, amount, _note("", reason))
    return CreditChange(user.email, amount, balance)


async def _locked_user(session: AsyncSession, email: str) -> User:
    try:
        address = normalise_email(email)
    except ValueError:
        raise InputError(f"{email!r} is not an email address") from None
    user = await session.scalar(select(User).where(User.email == address).with_for_update())
    if user is None:
        raise NotFoundError(f"there is no account with the email {address}")
    return user


def _note(what: str, reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InputError("say why: a reason is recorded in the ledger with every change")
    text = f"{what}: {reason}" if what else reason
    if len(text) > NOTE_MAX_CHARS:
        raise InputError(f"the reason is too long: at most {NOTE_MAX_CHARS - len(what) - 2} characters")
    return text
