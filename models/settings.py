"""The database's part of the settings: its URL as the project accepts it, and its timeouts. The settings object
itself is `api.settings.Settings`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def normalise_database_url(url: str) -> str:
    """Accept the common `postgresql://` spelling and use psycopg 3 for it."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class DatabaseSettings(BaseSettings):
    """How long a database may keep a caller waiting (`KARMAYOGI_DB_*`): past these, a request answers 503 and a
    command exits 4, instead of hanging."""

    model_config = SettingsConfigDict(env_prefix="KARMAYOGI_DB_", extra="ignore")

    busy_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="SQLite: how long a write waits for another writer's lock (SQLite retries it meanwhile)",
    )
    connect_timeout_seconds: int = Field(
        default=5, ge=2, description="PostgreSQL: how long opening a connection may take (libpq's minimum is 2)"
    )
    statement_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="PostgreSQL: longest statement; a statement whose answer has not arrived 2 s later (a silent "
        "network) is abandoned by the client",
    )
    pool_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long a request waits for a free connection of the pool"
    )
