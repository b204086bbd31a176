"""PostgreSQL tables: the system of record.

Started from the spec's ``users`` and ``videos`` tables and extended for the product: avatars, API keys,
refresh tokens (revocation), an append-only credit ledger, webhooks and their deliveries, and live
sessions. Every owned row carries ``user_id``; queries in the gateway always filter on it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
        uuid.UUID: UUID(as_uuid=True),
    }


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("credits >= 0", name="credits_not_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    plan: Mapped[str] = mapped_column(String(32), nullable=False, default="free", server_default="free")
    credits: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="true")
    created_at: Mapped[datetime] = _now()


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)  # shown to the user to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)  # sha256 of the secret
    created_at: Mapped[datetime] = _now()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)  # the token's jti
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)  # pruning
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class Avatar(Base):
    __tablename__ = "avatars"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    image_key: Mapped[str] = mapped_column(String(500), nullable=False)  # original photo in object storage
    preview_key: Mapped[str] = mapped_column(String(500), nullable=False)  # JPEG of the cropped portrait
    rig_keys: Mapped[dict[str, Any]] = mapped_column(nullable=False, default=dict)  # {"512": key, "640": key}
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    face_px: Mapped[int] = mapped_column(Integer, nullable=False)
    # {"image_px", "box": [x, y, w, h], "outline": [[x, y], ...], "faces_found"} on the preview; None: before 0005
    face: Mapped[dict[str, Any] | None] = mapped_column()
    warnings: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    created_at: Mapped[datetime] = _now()


VIDEO_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (
        CheckConstraint(f"status IN {VIDEO_STATUSES}", name="video_status_known"),
        Index("ix_videos_user_created", "user_id", "created_at"),
        Index("ix_videos_status_heartbeat", "status", "heartbeat_at"),
        UniqueConstraint("user_id", "idempotency_key", name="uq_videos_idempotency"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    type: Mapped[str] = mapped_column(String(32), nullable=False, default="offline", server_default="offline")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued", server_default="queued")
    video_url: Mapped[str | None] = mapped_column(String(500))  # object-storage key of the MP4
    prompt: Mapped[str | None] = mapped_column(Text)
    script: Mapped[dict[str, Any] | None] = mapped_column()
    avatar_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("avatars.id", ondelete="SET NULL"))
    voice: Mapped[str] = mapped_column(String(100), nullable=False, default="piper")
    resolution: Mapped[str] = mapped_column(String(8), nullable=False, default="720p")
    captions: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    background: Mapped[str | None] = mapped_column(String(16))  # "#rrggbb"; None: the layout's default
    target_duration_s: Mapped[float] = mapped_column(Float, nullable=False)
    duration_s: Mapped[float | None] = mapped_column(Float)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0, server_default="0")
    stage: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    artifacts: Mapped[dict[str, Any]] = mapped_column(nullable=False, default=dict)  # kind -> storage key
    credits_reserved: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    credits_charged: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    worker_id: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CreditEntry(Base):
    """Append-only: every change of ``users.credits`` is one row, written in the same transaction."""

    __tablename__ = "credit_ledger"
    __table_args__ = (
        # one reservation, one settlement and one refund per video, whatever retries happen
        Index(
            "uq_credit_ledger_video_reason", "video_id", "reason", unique=True, postgresql_where="video_id IS NOT NULL"
        ),
        CheckConstraint("balance_after >= 0", name="ledger_balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    delta: Mapped[int] = mapped_column(Integer, nullable=False)
    balance_after: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)  # grant | reserve | settle | refund | live
    video_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("videos.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    secret: Mapped[str] = mapped_column(String(100), nullable=False)  # HMAC key, shown once at creation
    events: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = _now()


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (  # the sweeper looks for pending deliveries
        Index("ix_webhook_deliveries_pending", "created_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LiveSession(Base):
    __tablename__ = "live_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    avatar_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("avatars.id", ondelete="SET NULL"))
    voice: Mapped[str] = mapped_column(String(100), nullable=False, default="piper")
    persona: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")  # open | closed
    worker_id: Mapped[str | None] = mapped_column(String(100))
    seconds_used: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    credits_charged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = _now()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
