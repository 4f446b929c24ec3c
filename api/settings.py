"""The one settings object of the project (`Settings`), read from the environment (`KARMAYOGI_*`, `DATABASE_URL`)
once by the command line and once by each service worker, and handed down: the packages below `api` take the
section they need as an argument.

Sections: the storage (`home`, `database_url`) at the top; `database` (its timeouts, `KARMAYOGI_DB_*`), `search`
(`KARMAYOGI_SEARCH_*`), `mt` (machine translation, `KARMAYOGI_MT_*`) and `service` (the HTTP service,
`KARMAYOGI_*`), each defined beside the code it configures. The README's configuration table lists every variable."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from models import DatabaseSettings
from models.settings import normalise_database_url
from search.config import SearchSettings
from translation.config import TranslationSettings

MAX_PAGE_SIZE = 100


class ServiceSettings(BaseSettings):
    """The HTTP service: limits, the review UI's sessions, serving (`KARMAYOGI_*`)."""

    model_config = SettingsConfigDict(env_prefix="KARMAYOGI_", extra="ignore")

    max_body_bytes: int = Field(default=1 << 20, ge=1024, description="Largest request body (413 above)")
    max_ingest_bytes: int = Field(
        default=64 << 20, ge=1024, description="Largest body of `POST /v1/courses/bulk` (413 above)"
    )
    body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a client has to send a request body, plus one for each `body_min_bytes_per_second` "
        "bytes it has sent (408 after)",
    )
    body_min_bytes_per_second: int = Field(
        default=100 << 10, ge=1, description="The upload rate that earns a longer body more time"
    )
    secret_key: str | None = Field(
        default=None, description="Signs review-UI sessions and CSRF tokens; kept in `home`/secret_key when unset"
    )
    session_hours: float = Field(default=8.0, gt=0, description="How long a review-UI sign-in lasts")
    cookie_secure: bool = Field(default=False, description="Send the review-UI cookie over HTTPS only")
    semantic: bool = Field(
        default=True, description="Load the course search index (search, and text evidence for recommendations)"
    )
    max_in_flight: int = Field(
        default=10,
        ge=1,
        description="Requests inside the app at once per worker (the rest queue); keep it under the database "
        "pool's 15 connections",
    )
    host: str = Field(default="127.0.0.1", description="Address `karmayogi serve` listens on")
    port: int = Field(default=8000, description="Port `karmayogi serve` listens on")
    workers: int | None = Field(default=None, ge=1, description="uvicorn worker processes; CPU count (max 4) if unset")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KARMAYOGI_", extra="ignore")

    home: Path = Field(default=Path("var"), description="Folder for the SQLite database, the index and logs")
    database_url_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "KARMAYOGI_DATABASE_URL"),
        description="SQLAlchemy URL; a SQLite file under `home` when unset",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="The database's timeouts")
    search: SearchSettings = Field(default_factory=SearchSettings, description="The course index's encoders")
    mt: TranslationSettings = Field(default_factory=TranslationSettings, description="The machine translation model")
    service: ServiceSettings = Field(default_factory=ServiceSettings, description="The HTTP service")

    @cached_property
    def database_url(self) -> str:
        if self.database_url_override:
            return normalise_database_url(self.database_url_override)
        return f"sqlite:///{self.home / 'karmayogi.db'}"

    def signing_secret(self) -> str:
        """The configured secret, else one generated once and kept under `home` so that every worker shares it."""
        if self.service.secret_key:
            return self.service.secret_key
        path = self.home / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_once(path, secrets.token_urlsafe(48))
        return path.read_text(encoding="utf-8").strip()


def _create_once(path: Path, text: str) -> None:
    """Write a private file complete, then link it into place: a racing worker keeps the first one's."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def environment_table() -> str:
    """The README's configuration table, made from the fields above (a test keeps the README equal to it)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    sections: list[tuple[type[BaseSettings], str]] = [
        (Settings, ""),
        (DatabaseSettings, "database"),
        (SearchSettings, "search"),
        (TranslationSettings, "mt"),
        (ServiceSettings, "service"),
    ]
    for model, section in sections:
        prefix = str(model.model_config.get("env_prefix", ""))
        for name, field in model.model_fields.items():
            if name in ("database", "search", "mt", "service"):
                continue
            alias = field.validation_alias
            names = list(alias.choices) if isinstance(alias, AliasChoices) else [prefix + name]
            variables = " / ".join(f"`{str(variable).upper()}`" for variable in names)
            default = "—" if field.default in (None, "") else f"`{field.default}`"
            where = f"{section}." if section else ""
            meaning = (field.description or "").replace("|", "\\|")
            rows.append(f"| {variables} | {default} | `{where}{name}`: {meaning} |")
    return "\n".join(rows)
