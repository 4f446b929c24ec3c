"""bulk review actions as batches that can be undone

Revision ID: 0007_review_batches
Revises: 0006_key_languages
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_review_batches"
down_revision = "0006_key_languages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "review_batch_units",
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status_before", sa.String(length=24), nullable=False),
        sa.Column("reviewer_before", sa.String(length=128), nullable=True),
        sa.Column("note_before", sa.Text(), nullable=True),
        sa.Column("memory_before", sa.Text(), nullable=True),
        sa.Column("memory_origin_before", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["review_batches.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["translation_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("batch_id", "unit_id"),
    )
    with op.batch_alter_table("translation_history") as batch:
        batch.add_column(sa.Column("batch_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("translation_history") as batch:
        batch.drop_column("batch_id")
    op.drop_table("review_batch_units")
    op.drop_table("review_batches")
