"""Alembic environment: the engine comes from `models.db.alembic_config`, never from an ini file."""

from alembic import context

from models.tables import Base

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
