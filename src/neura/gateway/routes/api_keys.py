"""API keys: long-lived credentials for scripts (``X-API-Key: nk_...``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy import func, select, update

from neura.db.models import ApiKey
from neura.errors import ConflictError, ForbiddenError, NotFoundError
from neura.gateway.deps import CurrentUser, DbSession
from neura.gateway.errors import raises
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from neura.gateway.schemas.pagination import Page, Paging
from neura.security import API_KEY_PREFIX, new_api_key

MAX_ACTIVE_KEYS = 25


@raises(ForbiddenError)
def _signed_in_with_a_token(request: Request, user: CurrentUser) -> None:
    """Keys are managed from a logged-in session: a leaked key must not be able to mint more keys.
    (Depends on CurrentUser so that bad credentials are a 401 before this 403.)"""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if request.headers.get("x-api-key") or (scheme.lower() == "bearer" and token.strip().startswith(API_KEY_PREFIX)):
        raise ForbiddenError("API keys cannot manage API keys", hint="log in and use your access token")


SessionOnly = Depends(_signed_in_with_a_token)

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"], dependencies=[RateLimited])


@router.post(
    "",
    operation_id="createApiKey",
    status_code=status.HTTP_201_CREATED,
    dependencies=[SessionOnly],
    summary="Create an API key; its secret is in this response only",
)
async def create_api_key(body: ApiKeyCreate, user: CurrentUser, session: DbSession) -> ApiKeyCreated:
    active = await session.scalar(
        select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_ACTIVE_KEYS:
        raise ConflictError(f"you already have {MAX_ACTIVE_KEYS} API keys", hint="revoke one you no longer use")
    secret, prefix, key_hash = new_api_key()
    key = ApiKey(user_id=user.id, name=body.name, prefix=prefix, key_hash=key_hash)
    session.add(key)
    await session.flush()
    await session.refresh(key)
    return ApiKeyCreated(**ApiKeyPublic.model_validate(key).model_dump(), key=secret)


@router.get("", operation_id="listApiKeys", summary="Your active API keys (without their secrets)")
async def list_api_keys(user: CurrentUser, session: DbSession, paging: Paging) -> Page[ApiKeyPublic]:
    rows = await session.scalars(
        select(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
        .limit(paging.fetch)
        .offset(paging.offset)
    )
    return Page[ApiKeyPublic].of([ApiKeyPublic.model_validate(row) for row in rows], paging)


@router.delete(
    "/{key_id}",
    operation_id="revokeApiKey",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[SessionOnly],
    summary="Revoke an API key (it stops working at once)",
)
async def revoke_api_key(key_id: uuid.UUID, user: CurrentUser, session: DbSession) -> None:
    revoked = await session.scalar(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(ApiKey.id)
    )
    if revoked is None:
        raise NotFoundError("API key not found")
