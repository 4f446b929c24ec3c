"""API keys limited to some languages (a reviewer of Hindi and Marathi only)

Revision ID: 0006_key_languages
Revises: 0005_review_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_key_languages"
down_revision = "0005_review_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing keys keep every language: an empty list means no limit.
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("languages")
