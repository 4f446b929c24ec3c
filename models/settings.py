"""Where the project keeps its state: `KARMAYOGI_HOME` (database, index) and `DATABASE_URL`; which encoders the
course search uses (`KARMAYOGI_SEARCH__ENCODER`, `KARMAYOGI_SEARCH__MULTILINGUAL_ENCODER`)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SearchSettings(BaseModel):
    """The encoders of the course index; everything else about search is the measured default
    (`search.RetrievalConfig`)."""

    encoder: str = Field(default="minilm", description="English encoder: minilm, e5 or st:DIR")
    multilingual_encoder: str | None = Field(
        default="e5", description="Encoder for non-English queries and texts; `none` to go without"
    )

    @field_validator("multilingual_encoder")
    @classmethod
    def _none_means_off(cls, value: str | None) -> str | None:
        return None if value is None or value.strip().lower() in ("", "none") else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KARMAYOGI_", env_nested_delimiter="__", extra="ignore")

    home: Path = Field(default=Path("var"), description="Folder for the SQLite database and the index")
    database_url_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "KARMAYOGI_DATABASE_URL"),
        description="SQLAlchemy URL; a SQLite file under `home` when unset",
    )
    search: SearchSettings = Field(default_factory=SearchSettings, description="The course index's encoders")

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
