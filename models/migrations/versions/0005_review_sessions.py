"""server-side sessions of the review UI

Revision ID: 0005_review_sessions
Revises: 0004_catalog_changes
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_review_sessions"
down_revision = "0004_catalog_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_review_sessions_key_id", "review_sessions", ["key_id"])
    op.create_index("ix_review_sessions_expires_at", "review_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_review_sessions_expires_at", table_name="review_sessions")
    op.drop_index("ix_review_sessions_key_id", table_name="review_sessions")
    op.drop_table("review_sessions")
