"""The translation memory in the database: approved translations, seeded reviewed pairs and imports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Problem
from models.problems import IngestRejectedError
from models.tables import TranslationMemoryRow
from translation.languages import translation_language
from translation.memory import MemoryMatch, TranslationMemory, source_key

DATA = Path(__file__).resolve().parent.parent / "data" / "translation"
SEED_FILES = {"hi": DATA / "reviewed.en-hi.tsv"}


# The memory origin of a text approved over an error flag (translation.review): its matches carry this warning.
OVERRIDDEN_ORIGIN = "approved-override"
OVERRIDE_WARNING = "approved over an error flag: check it before reuse"


def load_memory(session: Session, target: str, source: str = "en") -> TranslationMemory:
    rows = session.execute(
        select(TranslationMemoryRow.source_text, TranslationMemoryRow.target_text, TranslationMemoryRow.origin)
        .where(TranslationMemoryRow.source_language == source, TranslationMemoryRow.target_language == target)
        .order_by(TranslationMemoryRow.id)
    ).all()
    warnings = {s: OVERRIDE_WARNING for s, _, origin in rows if origin == OVERRIDDEN_ORIGIN}
    return TranslationMemory(((s, t) for s, t, _ in rows), warnings)


def remember(
    session: Session, source_text: str, target_text: str, target: str, *, origin: str, source: str = "en"
) -> bool:
    """Store or update one memory entry; True when something changed."""
    key = source_key(source_text)
    row = session.scalar(
        select(TranslationMemoryRow).where(
            TranslationMemoryRow.source_language == source,
            TranslationMemoryRow.target_language == target,
            TranslationMemoryRow.source_key == key,
        )
    )
    if row is None:
        session.add(
            TranslationMemoryRow(
                source_language=source,
                target_language=target,
                source_key=key,
                source_text=source_text,
                target_text=target_text,
                origin=origin,
            )
        )
        session.flush()
        return True
    if row.target_text == target_text:
        return False
    row.target_text, row.origin, row.updated_at = target_text, origin, datetime.now(UTC)
    return True


def read_parallel_file(path: Path) -> tuple[str, str, list[tuple[str, str]]]:
    """A TSV whose header names the two languages (`en<TAB>hi`); every problem is reported, none written."""
    problems: list[Problem] = []
    pairs: list[tuple[str, str]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t") if lines else []
    if len(header) != 2:
        raise IngestRejectedError([Problem(str(path), 1, "header", "expected two language codes separated by a tab")])
    try:
        source, target = (translation_language(code).code for code in header)
    except ValueError as error:
        raise IngestRejectedError([Problem(str(path), 1, "header", str(error))]) from None
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != 2 or not all(cell.strip() for cell in cells):
            problems.append(Problem(str(path), number, "line", "expected two non-empty cells separated by a tab"))
            continue
        pairs.append((cells[0].strip(), cells[1].strip()))
    if problems:
        raise IngestRejectedError(problems)
    return source, target, pairs


def seed_memory(session: Session, path: Path) -> int:
    """Load a file of reviewed pairs into the memory (idempotent); returns how many entries changed."""
    source, target, pairs = read_parallel_file(path)
    return sum(remember(session, s, t, target, origin="seed", source=source) for s, t in pairs)


def memory_matches(
    session: Session, text: str, target: str, limit: int = 5, *, min_score: float = 60.0, source: str = "en"
) -> list[MemoryMatch]:
    """Suggestions for a reviewer: the closest approved translations of similar texts."""
    return load_memory(session, target, source).matches(text, limit=limit, min_score=min_score)
