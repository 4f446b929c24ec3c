"""Where the project keeps its state: `KARMAYOGI_HOME` (database, index) and `DATABASE_URL`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KARMAYOGI_", extra="ignore")

    home: Path = Field(default=Path("var"), description="Folder for the SQLite database and the index")
    database_url_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "KARMAYOGI_DATABASE_URL"),
        description="SQLAlchemy URL; a SQLite file under `home` when unset",
    )

    @cached_property
    def database_url(self) -> str:
        if self.database_url_override:
            return normalise_database_url(self.database_url_override)
        return f"sqlite:///{self.home / 'karmayogi.db'}"


def normalise_database_url(url: str) -> str:
    """Accept the common `postgresql://` spelling and use psycopg 3 for it."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
