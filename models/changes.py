"""The catalog's change feed: what changed, in order, so that every serving process can apply it.

Each writer calls `record_changes` inside its own transaction, so that a change and its feed row commit or roll
back together. On PostgreSQL a transaction-scoped advisory lock makes writers of the feed take their sequence
numbers in commit order: without it, a transaction that took sequence 5 could commit after one that took 6, and
a reader that had moved past 6 would never see 5."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session

from models.db import as_utc
from models.tables import CatalogChangeRow, table_of

ChangeKind = Literal["course", "translation", "catalog", "learners"]
KINDS: tuple[ChangeKind, ...] = ("course", "translation", "catalog", "learners")
# Any constant: it names the one lock that orders the feed's writers.
_FEED_LOCK = 7_011_960_213
NOTIFY_CHANNEL = "karmayogi_catalog"


@dataclass(frozen=True)
class Change:
    sequence: int
    kind: ChangeKind
    course_id: str | None
    recorded_at: datetime


def record_changes(target: Connection | Session, kind: ChangeKind, course_ids: Collection[str] | None = None) -> None:
    """Add feed rows for these courses (one row without a course for `catalog` and `learners` changes), inside
    the caller's transaction; on PostgreSQL also wake the serving processes when it commits."""
    rows: list[dict[str, str | None]] = [
        {"kind": kind, "course_id": course_id} for course_id in sorted(course_ids or ())
    ]
    if not rows and kind in ("catalog", "learners"):
        rows = [{"kind": kind, "course_id": None}]
    if not rows:
        return
    dialect = target.dialect if isinstance(target, Connection) else target.get_bind().dialect
    if dialect.name == "postgresql":
        target.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FEED_LOCK})  # re-entrant
        target.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))  # delivered at commit, and not at all on a rollback
    target.execute(insert(table_of(CatalogChangeRow)), rows)


def lock_feed(connection: Connection) -> None:
    """Take the feed's writer lock now, for the rest of the transaction (PostgreSQL; SQLite has one writer at a
    time anyway): concurrent ingests of the same records then run one after the other instead of colliding."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FEED_LOCK})


def latest_sequence(target: Connection | Session) -> int:
    """The sequence of the newest change (0 when the feed is empty)."""
    return int(target.execute(_LATEST_SEQUENCE).scalar_one())


# Every worker runs this 20 times a second while idle (api/recommending.py): built once.
_LATEST_SEQUENCE = select(func.coalesce(func.max(CatalogChangeRow.sequence), 0))


def changes_after(target: Connection | Session, sequence: int, limit: int = 10_000) -> list[Change]:
    """The changes after `sequence`, oldest first, at most `limit`."""
    rows = target.execute(
        select(
            CatalogChangeRow.sequence, CatalogChangeRow.kind, CatalogChangeRow.course_id, CatalogChangeRow.recorded_at
        )
        .where(CatalogChangeRow.sequence > sequence)
        .order_by(CatalogChangeRow.sequence)
        .limit(limit)
    )
    return [Change(int(number), _kind(kind), course_id, as_utc(at)) for number, kind, course_id, at in rows]


def _kind(value: str) -> ChangeKind:
    """The column's CHECK allows only these; narrowed here for the type checker."""
    for kind in KINDS:
        if value == kind:
            return kind
    raise ValueError(f"unknown change kind {value!r} in catalog_changes")
