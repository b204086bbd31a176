"""refresh tokens: an index on expires_at, for the sweeper that prunes expired ones

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 15:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CONCURRENTLY (outside the migration's transaction): logins and refreshes keep writing meanwhile
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_refresh_tokens_expires_at",
            "refresh_tokens",
            ["expires_at"],
            unique=False,
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_refresh_tokens_expires_at",
            table_name="refresh_tokens",
            postgresql_concurrently=True,
            if_exists=True,
        )
