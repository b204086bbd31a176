"""Webhooks: where NEURA posts when a video finishes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from neura.db.models import Webhook, WebhookDelivery
from neura.gateway.schemas.text import STORABLE

WebhookEvent = Literal["video.completed", "video.failed", "video.cancelled"]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=8, max_length=2000), STORABLE] = Field(
        examples=["https://example.com/neura-hook"]
    )
    events: list[WebhookEvent] = Field(default=["video.completed", "video.failed"], min_length=1, max_length=3)


class WebhookPublic(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    active: bool
    created_at: datetime

    @classmethod
    def from_row(cls, hook: Webhook) -> WebhookPublic:
        return cls(id=hook.id, url=hook.url, events=list(hook.events), active=hook.active, created_at=hook.created_at)


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="signs every delivery (X-Neura-Signature); shown only now")


class WebhookList(BaseModel):
    items: list[WebhookPublic]


class DeliveryPublic(BaseModel):
    id: uuid.UUID
    event: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, delivery: WebhookDelivery) -> DeliveryPublic:
        return cls(
            id=delivery.id,
            event=delivery.event,
            status=delivery.status,
            attempts=delivery.attempts,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
        )


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]
