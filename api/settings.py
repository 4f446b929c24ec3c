"""Settings of the HTTP service: the project's settings plus limits and serving options (env `KARMAYOGI_*`)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field

from models import Settings

MAX_PAGE_SIZE = 100


class ApiSettings(Settings):
    max_body_bytes: int = Field(default=1 << 20, ge=1024, description="Largest request body (413 above)")
    max_ingest_bytes: int = Field(default=64 << 20, ge=1024, description="Largest bulk-ingest body (413 above)")
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
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int | None = Field(default=None, ge=1, description="uvicorn worker processes; CPU count (max 4) if unset")

    def signing_secret(self) -> str:
        """The configured secret, else one generated once and kept under `home` so that every worker shares it."""
        if self.secret_key:
            return self.secret_key
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
