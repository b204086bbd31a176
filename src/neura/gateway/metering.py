"""Paying for one request's work: charge credits before it, give them back when it fails.

    async with paid(state, user.id, Charge(1, "script", "POST /v1/scripts", hint="...")) as bill:
        ...                                   # the work; an exception (or cancellation) refunds
    response.headers.update(bill.headers())   # X-Credits-Charged, X-Credits-Remaining

Each step is its own short transaction, so no database connection is held while the work runs (a
language model may take a minute). Speech keeps its own per-character variant in
:mod:`neura.gateway.speech`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from neura.billing import charge, give_back
from neura.errors import PaymentRequiredError
from neura.gateway.state import AppState


@dataclass(frozen=True)
class Charge:
    credits: int
    reason: str  # the ledger's reason; a refund is "<reason>_refund"
    note: str  # what was paid for, in the ledger
    hint: str  # what to do when the balance is too low


@dataclass(frozen=True)
class Bill:
    credits: int
    balance: int  # after the charge

    def headers(self) -> dict[str, str]:
        return {"X-Credits-Charged": str(self.credits), "X-Credits-Remaining": str(self.balance)}


@asynccontextmanager
async def paid(state: AppState, user_id: uuid.UUID, price: Charge) -> AsyncIterator[Bill]:
    """Charge ``price`` (402 when the balance is too low), run the body, and give the credits back
    if it raises or is cancelled."""
    try:
        async with state.sessions() as session, session.begin():
            balance = await charge(session, user_id, price.credits, price.reason, price.note)
    except PaymentRequiredError as exc:
        raise PaymentRequiredError(exc.message, hint=price.hint) from None
    try:
        yield Bill(price.credits, balance)
    except BaseException:
        # shielded: a second cancellation (the client gone, the server stopping) must not lose the refund
        await asyncio.shield(_refund(state, user_id, price))
        raise


async def _refund(state: AppState, user_id: uuid.UUID, price: Charge) -> None:
    async with state.sessions() as session, session.begin():
        await give_back(session, user_id, price.credits, f"{price.reason}_refund", f"{price.note} failed")
