"""catalog: KCM, roles, courses, learners

Revision ID: 0001_catalog
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_catalog"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "competency_areas",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "courses",
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("primary_category", sa.String(length=64), nullable=False),
        sa.Column("organisations", sa.JSON(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("source_format", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("identifier"),
    )
    op.create_table(
        "learners",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("department", sa.String(length=256), nullable=True),
        sa.Column("preferred_languages", sa.JSON(), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learners_department"), ["department"], unique=False)

    op.create_table(
        "proficiency_levels",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("level"),
    )
    op.create_table(
        "roles",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("designation", sa.String(length=256), nullable=False),
        sa.Column("department", sa.String(length=256), nullable=False),
        sa.Column("ministry", sa.String(length=256), nullable=True),
        sa.Column("state", sa.String(length=128), nullable=True),
        sa.Column("responsibilities", sa.JSON(), nullable=False),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roles_department"), ["department"], unique=False)

    op.create_table(
        "competency_themes",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("area_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["competency_areas.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("competency_themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_competency_themes_area_id"), ["area_id"], unique=False)

    op.create_table(
        "learner_courses",
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("course_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint("status IN ('enrolled', 'completed')", name="ck_learner_courses_status"),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.identifier"],
        ),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("learner_id", "course_id"),
    )
    with op.batch_alter_table("learner_courses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learner_courses_course_id"), ["course_id"], unique=False)

    op.create_table(
        "learner_roles",
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("role_id", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.id"],
        ),
        sa.PrimaryKeyConstraint("learner_id", "role_id"),
    )
    with op.batch_alter_table("learner_roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learner_roles_role_id"), ["role_id"], unique=False)

    op.create_table(
        "competencies",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("theme_id", sa.String(length=128), nullable=False),
        sa.Column("area_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["competency_areas.id"],
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["competency_themes.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_competencies_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_competencies_theme_id"), ["theme_id"], unique=False)

    op.create_table(
        "competency_levels",
        sa.Column("competency_id", sa.String(length=128), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("descriptor", sa.Text(), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name="ck_competency_levels_level"),
        sa.ForeignKeyConstraint(["competency_id"], ["competencies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("competency_id", "level"),
    )
    op.create_table(
        "course_competencies",
        sa.Column("course_id", sa.String(length=128), nullable=False),
        sa.Column("competency_id", sa.String(length=128), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.CheckConstraint("level IS NULL OR level BETWEEN 1 AND 5", name="ck_course_competencies_level"),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
        ),
        sa.ForeignKeyConstraint(["course_id"], ["courses.identifier"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("course_id", "competency_id"),
    )
    with op.batch_alter_table("course_competencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_competencies_competency_id"), ["competency_id"], unique=False)

    op.create_table(
        "learner_competencies",
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("competency_id", sa.String(length=128), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.CheckConstraint("source IN ('self', 'assessed')", name="ck_learner_competencies_source"),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name="ck_learner_competencies_level"),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
        ),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("learner_id", "competency_id"),
    )
    op.create_table(
        "role_competencies",
        sa.Column("role_id", sa.String(length=128), nullable=False),
        sa.Column("competency_id", sa.String(length=128), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("importance", sa.Integer(), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name="ck_role_competencies_level"),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
        ),
        sa.ForeignKeyConstraint(["role_id"], ["roles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("role_id", "competency_id"),
    )
    with op.batch_alter_table("role_competencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_competencies_competency_id"), ["competency_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("role_competencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_competencies_competency_id"))

    op.drop_table("role_competencies")
    op.drop_table("learner_competencies")
    with op.batch_alter_table("course_competencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_competencies_competency_id"))

    op.drop_table("course_competencies")
    op.drop_table("competency_levels")
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_competencies_theme_id"))
        batch_op.drop_index(batch_op.f("ix_competencies_area_id"))

    op.drop_table("competencies")
    with op.batch_alter_table("learner_roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learner_roles_role_id"))

    op.drop_table("learner_roles")
    with op.batch_alter_table("learner_courses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learner_courses_course_id"))

    op.drop_table("learner_courses")
    with op.batch_alter_table("competency_themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_competency_themes_area_id"))

    op.drop_table("competency_themes")
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roles_department"))

    op.drop_table("roles")
    op.drop_table("proficiency_levels")
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learners_department"))

    op.drop_table("learners")
    op.drop_table("courses")
    op.drop_table("competency_areas")
