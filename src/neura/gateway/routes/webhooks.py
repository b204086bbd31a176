"""Webhooks: NEURA POSTs a signed JSON event to your URL when one of your videos finishes.

Verify a delivery: split ``X-Neura-Signature: t=<ts>,v1=<hex>``, compute HMAC-SHA256 of
``"<ts>.<raw body>"`` with the secret returned when the webhook was created, compare in constant time,
and refuse a ``t`` older than five minutes. Non-2xx answers are retried with exponential backoff.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlalchemy import func, select

from neura.db.models import User, Webhook, WebhookDelivery
from neura.errors import ForbiddenError, NotFoundError
from neura.gateway.deps import CurrentUser, DbSession, SettingsDep
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.webhooks import (
    DeliveryList,
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookPublic,
)
from neura.jobs.webhooks import check_url, new_secret

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], dependencies=[RateLimited])

MAX_WEBHOOKS = 10
DELIVERIES_SHOWN = 50


async def _owned(session: DbSession, user: User, webhook_id: uuid.UUID) -> Webhook:
    hook = await session.scalar(select(Webhook).where(Webhook.id == webhook_id, Webhook.user_id == user.id))
    if hook is None:
        raise NotFoundError("webhook not found")
    return hook


@router.post(
    "",
    operation_id="createWebhook",
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook; its signing secret is shown only in this response",
    responses={422: {"description": "not an http(s) URL, or a host NEURA refuses to call (private address)"}},
)
async def create_webhook(
    body: WebhookCreate, user: CurrentUser, session: DbSession, settings: SettingsDep
) -> WebhookCreated:
    url = await check_url(body.url, settings)
    count = await session.scalar(select(func.count()).select_from(Webhook).where(Webhook.user_id == user.id))
    if (count or 0) >= MAX_WEBHOOKS:
        raise ForbiddenError(f"you have {count} webhooks; the limit is {MAX_WEBHOOKS}", hint="delete one first")
    hook = Webhook(id=uuid.uuid4(), user_id=user.id, url=url, secret=new_secret(), events=sorted(set(body.events)))
    hook.active = True
    session.add(hook)
    await session.flush()
    await session.refresh(hook)
    return WebhookCreated(**WebhookPublic.from_row(hook).model_dump(), secret=hook.secret)


@router.get("", operation_id="listWebhooks", summary="Your webhooks (without their secrets)")
async def list_webhooks(user: CurrentUser, session: DbSession) -> WebhookList:
    rows = await session.scalars(select(Webhook).where(Webhook.user_id == user.id).order_by(Webhook.created_at))
    return WebhookList(items=[WebhookPublic.from_row(row) for row in rows])


@router.get("/{webhook_id}", operation_id="getWebhook", summary="One of your webhooks")
async def get_webhook(webhook_id: uuid.UUID, user: CurrentUser, session: DbSession) -> WebhookPublic:
    return WebhookPublic.from_row(await _owned(session, user, webhook_id))


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="listWebhookDeliveries",
    summary="The webhook's latest deliveries and their outcome",
)
async def list_deliveries(webhook_id: uuid.UUID, user: CurrentUser, session: DbSession) -> DeliveryList:
    hook = await _owned(session, user, webhook_id)
    rows = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.created_at.desc())
        .limit(DELIVERIES_SHOWN)
    )
    return DeliveryList(items=[DeliveryPublic.from_row(row) for row in rows])


@router.delete(
    "/{webhook_id}", operation_id="deleteWebhook", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a webhook"
)
async def delete_webhook(webhook_id: uuid.UUID, user: CurrentUser, session: DbSession) -> None:
    await session.delete(await _owned(session, user, webhook_id))
