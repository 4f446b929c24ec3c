"""Building the HTTP app on a test database, with one API key per scope."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from api.auth import create_key
from api.services import Services
from api.settings import Settings
from models import session_scope
from search import RetrievalConfig
from translation import Engine as MTEngine

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


def make_services(
    engine: Engine, home: Path, mt: MTEngine | None = None, search: RetrievalConfig | None = None, **settings: object
) -> Services:
    """Services on a test database; without a `search` configuration (no course index), recommendations use tag
    evidence only."""
    service = {"secret_key": "test-secret"} | settings
    configured = Settings(home=home, service=service)  # type: ignore[arg-type]  # pydantic validates the dict
    return Services(
        settings=configured,
        engine=engine,
        sessions=sessionmaker(bind=engine, expire_on_commit=False),
        signing_secret=configured.signing_secret(),
        mt=mt,
        search=search,
    )


# --- translation ----------------------------------------------------------------------------------------

MEMORY_PAIRS = {"Noting and Drafting": "टिप्पण और प्रारूपण"}
MT_TABLE = {"Empathy at the front desk": "फ्रंट डेस्क पर सहानुभूति"}


class DictionaryEngine:
    """A stand-in machine translation engine for tests: a fixed English → Hindi table; anything else comes out
    as one word, which drops numbers (an error flag) and is far too short (a warning)."""

    name = "test-dictionary"
    wants_protected_text = False

    def __init__(self, table: dict[str, str] | None = None) -> None:
        self.table = table or MT_TABLE

    def translate(self, segments: Sequence[str], source: object, target: object) -> list[str | None]:
        return [self.table.get(segment, "अज्ञात") for segment in segments]


def translated_catalog(engine: Engine, folder: Path) -> None:
    """The small KCM, three English courses, a seeded memory and a finished Hindi job over their names:
    one unit drafted from the memory, one clean machine translation, one with an error flag."""
    from models import ingest_file
    from translation import run_translation_job, seed_memory

    courses = [
        {"identifier": "do_memory", "name": "Noting and Drafting", "competencies": [{"competency_id": "FUN-02-01"}]},
        {"identifier": "do_clean", "name": "Empathy at the front desk"},
        {"identifier": "do_flagged", "name": "Public Procurement on GeM in 2024"},
    ]
    lines = "".join(json.dumps(course, ensure_ascii=False) + "\n" for course in courses)
    (folder / "courses.jsonl").write_text(lines, encoding="utf-8")
    ingest_file(engine, "courses", folder / "courses.jsonl")
    pairs = "en\thi\n" + "".join(f"{source}\t{target}\n" for source, target in MEMORY_PAIRS.items())
    (folder / "memory.tsv").write_text(pairs, encoding="utf-8")
    with session_scope(engine) as session:
        seed_memory(session, folder / "memory.tsv")
    run_translation_job(engine, ["hi"], ["name"], mt=DictionaryEngine())
