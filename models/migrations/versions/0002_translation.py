"""translation: units, history, memory, jobs

Revision ID: 0002_translation
Revises: 0001_catalog
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_translation"
down_revision = "0001_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "translation_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "translation_memory",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_language", sa.String(length=8), nullable=False),
        sa.Column("target_language", sa.String(length=8), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("target_text", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_language", "target_language", "source_key", name="uq_translation_memory_key"),
    )
    op.create_table(
        "translation_units",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("course_id", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("engine", sa.String(length=128), nullable=True),
        sa.Column("memory_score", sa.Float(), nullable=True),
        sa.Column("draft", sa.Text(), nullable=True),
        sa.Column("edited", sa.Text(), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('untranslated', 'machine_translated', 'in_review', 'approved', 'rejected')",
            name="ck_translation_units_status",
        ),
        sa.ForeignKeyConstraint(["course_id"], ["courses.identifier"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("course_id", "field", "language", name="uq_translation_units_key"),
    )
    with op.batch_alter_table("translation_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_translation_units_language"), ["language"], unique=False)
        batch_op.create_index(batch_op.f("ix_translation_units_status"), ["status"], unique=False)

    op.create_table(
        "translation_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("source_text", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["translation_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("translation_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_translation_history_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("translation_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_translation_history_unit_id"))

    op.drop_table("translation_history")
    with op.batch_alter_table("translation_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_translation_units_status"))
        batch_op.drop_index(batch_op.f("ix_translation_units_language"))

    op.drop_table("translation_units")
    op.drop_table("translation_memory")
    op.drop_table("translation_jobs")
