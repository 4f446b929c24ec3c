"""catalog change feed and course retirement

Revision ID: 0004_catalog_changes
Revises: 0003_api_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_catalog_changes"
down_revision = "0003_api_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_changes",
        sa.Column("sequence", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("course_id", sa.String(length=128), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('course', 'translation', 'catalog', 'learners')", name="ck_catalog_changes_kind"),
        sa.PrimaryKeyConstraint("sequence"),
    )
    # A plain ADD COLUMN: SQLite's batch mode would copy and drop `courses`, and with foreign keys on that drop
    # cascades into every course's competencies and learners. SQLite cannot add a CHECK to an existing table
    # without that copy, so there the status is checked by the application only (models.schemas.Course).
    op.add_column("courses", sa.Column("status", sa.String(length=16), nullable=False, server_default="active"))
    if op.get_bind().dialect.name != "sqlite":
        op.create_check_constraint("ck_courses_status", "courses", "status IN ('active', 'retired')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_courses_status", "courses", type_="check")
    op.drop_column("courses", "status")
    op.drop_table("catalog_changes")
