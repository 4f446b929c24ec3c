"""Building the HTTP app on a test database, with one API key per scope."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from api.auth import create_key
from api.services import Services
from api.settings import ApiSettings
from models import session_scope

SCOPED_KEYS = {
    "portal": ["recommend:read"],
    "content": ["catalog:write"],
    "reviewer": ["translate:review"],
    "admin": ["admin"],
}


@dataclass
class Keys:
    portal: str
    content: str
    reviewer: str
    admin: str

    def header(self, holder: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, holder)}"}


def make_keys(engine: Engine) -> Keys:
    with session_scope(engine) as session:
        return Keys(**{holder: create_key(session, holder, scopes)[1] for holder, scopes in SCOPED_KEYS.items()})


def make_services(engine: Engine, home: Path, **settings: object) -> Services:
    configured = ApiSettings(home=home, secret_key="test-secret", **settings)  # type: ignore[arg-type]
    return Services(
        settings=configured,
        engine=engine,
        sessions=sessionmaker(bind=engine, expire_on_commit=False),
        signing_secret=configured.signing_secret(),
    )
