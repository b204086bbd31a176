"""The ``X-Credits-*`` headers on every paid answer: what the request cost and the balance after it.

Paid answers: speech (``/v1/tts``, ``/v1/audio/speech``, ``/v1/align``), a video submission (its
reservation; the unused part comes back when the video finishes) and a live session's opening (its
first billing period).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from neura.db.models import User

CHARGED_HEADER = "X-Credits-Charged"
REMAINING_HEADER = "X-Credits-Remaining"

#: For a route's ``responses={status: {"headers": CREDIT_HEADERS_DOC}}`` in the OpenAPI schema.
CREDIT_HEADERS_DOC: dict[str, Any] = {
    CHARGED_HEADER: {"description": "credits this request cost", "schema": {"type": "integer"}},
    REMAINING_HEADER: {"description": "your balance after it", "schema": {"type": "integer"}},
}


def credit_headers(charged: int, remaining: int) -> dict[str, str]:
    return {CHARGED_HEADER: str(charged), REMAINING_HEADER: str(remaining)}


async def balance(session: AsyncSession, user_id: uuid.UUID) -> int:
    """The user's balance now (after what this request committed)."""
    return int(await session.scalar(select(User.credits).where(User.id == user_id)) or 0)
