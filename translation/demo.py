"""A small end-to-end run for `make demo`: Hindi course titles of the sample catalog from the memory."""

from __future__ import annotations

from sqlalchemy import Engine

from models import session_scope
from translation.config import configured_engine
from translation.glossary import catalog_glossary
from translation.jobs import JobReport, run_translation_job
from translation.store import SEED_FILES, seed_memory


def demo_translations(
    engine: Engine, languages: tuple[str, ...] = ("hi",), fields: tuple[str, ...] = ("name",)
) -> JobReport:
    """Seed the memory with the shipped reviewed pairs, then translate the catalog's English course titles:
    memory matches become drafts, the rest is queued (or machine-translated when KARMAYOGI_MT_MODEL is set)."""
    with session_scope(engine) as session:
        for language in languages:
            if language in SEED_FILES:
                seed_memory(session, SEED_FILES[language])
        glossary = catalog_glossary(session)
    return run_translation_job(engine, languages, fields, mt=configured_engine(), glossary=glossary)
