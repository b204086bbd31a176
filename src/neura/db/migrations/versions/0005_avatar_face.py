"""avatars: where the face lies on the preview (box and outline), for pages that outline it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable, no default: a metadata-only change; avatars made before it have no face geometry (null)
    op.add_column("avatars", sa.Column("face", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("avatars", "face")
