"""Reading a database URL as the project accepts it. The settings object itself is `api.settings.Settings`."""

from __future__ import annotations


def normalise_database_url(url: str) -> str:
    """Accept the common `postgresql://` spelling and use psycopg 3 for it."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
