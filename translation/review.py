"""The review workflow as plain functions on a SQLAlchemy Session (the HTTP API and the CLI call these).

A unit moves untranslated → machine_translated → in_review → approved | rejected; each change is kept in
its history. Approval feeds the translation memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from models.changes import record_changes
from models.problems import InvalidInputError
from models.statuses import UnitStatus
from models.tables import TranslationHistoryRow, TranslationUnitRow
from translation.checks import Flag, run_checks
from translation.diffs import DiffPart, word_diff
from translation.errors import ApprovalBlockedError, IllegalTransitionError, UnknownUnitError
from translation.glossary import Glossary
from translation.store import OVERRIDDEN_ORIGIN, remember


class Action(StrEnum):
    """What a reviewer can do to a unit (the HTTP API's routes and the review UI's buttons)."""

    EDIT = "edit"
    APPROVE = "approve"
    REJECT = "reject"


# Which statuses each action may start from, and the status it leads to.
_FROM: dict[Action, frozenset[UnitStatus]] = {
    Action.EDIT: frozenset(UnitStatus),
    Action.APPROVE: frozenset({UnitStatus.MACHINE_TRANSLATED, UnitStatus.IN_REVIEW}),
    Action.REJECT: frozenset({UnitStatus.MACHINE_TRANSLATED, UnitStatus.IN_REVIEW, UnitStatus.APPROVED}),
}
TARGET: dict[Action, UnitStatus] = {
    Action.EDIT: UnitStatus.IN_REVIEW,
    Action.APPROVE: UnitStatus.APPROVED,
    Action.REJECT: UnitStatus.REJECTED,
}


def allowed_actions(status: UnitStatus | str) -> frozenset[Action]:
    """The actions a unit in `status` allows; ValueError for a status outside the vocabulary."""
    current = UnitStatus(status)
    return frozenset(action for action, sources in _FROM.items() if current in sources)


class DraftSource(StrEnum):
    """Where a unit's draft came from: a reviewer must know a reused approval from a model's guess."""

    MEMORY = "memory"  # an exact match of an approved translation
    MEMORY_FUZZY = "memory-fuzzy"  # the closest approved translation of a similar text: check the difference
    MIXED = "memory+machine"  # some sentences from the memory, the others machine translated
    MACHINE = "machine"  # a machine translation model


def draft_source(engine: str | None) -> DraftSource | None:
    if engine is None:
        return None
    if engine in (DraftSource.MEMORY, DraftSource.MEMORY_FUZZY):
        return DraftSource(engine)
    return DraftSource.MIXED if engine.startswith("memory+") else DraftSource.MACHINE


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    action: str
    status: UnitStatus
    text: str | None  # the unit's text after the change
    source_text: str | None
    actor: str | None
    note: str | None
    before: str | None = None  # the unit's text before it (the previous entry's)
    batch_id: str | None = None  # the bulk action it was part of

    @property
    def diff(self) -> list[DiffPart]:
        """What the change did to the text, word by word."""
        return word_diff(self.before, self.text)


@dataclass(frozen=True)
class UnitView:
    id: int
    course_id: str
    field: str
    language: str
    source_text: str
    status: UnitStatus
    engine: str | None
    memory_score: float | None
    draft: str | None
    edited: str | None
    flags: list[dict[str, Any]]
    reviewer: str | None
    note: str | None
    updated_at: datetime
    history: list[HistoryEntry]

    @property
    def text(self) -> str | None:
        """What a reader would see: the reviewer's text, else the draft."""
        return self.edited if self.edited is not None else self.draft

    @property
    def draft_source(self) -> DraftSource | None:
        return draft_source(self.engine)

    @property
    def actions(self) -> tuple[Action, ...]:
        """What a reviewer may do to the unit now (allowed_actions), in a fixed order."""
        allowed = allowed_actions(self.status)
        return tuple(action for action in Action if action in allowed)


def view(row: TranslationUnitRow, with_history: bool = True) -> UnitView:
    return UnitView(
        id=row.id,
        course_id=row.course_id,
        field=row.field,
        language=row.language,
        source_text=row.source_text,
        status=UnitStatus(row.status),
        engine=row.engine,
        memory_score=row.memory_score,
        draft=row.draft,
        edited=row.edited,
        flags=list(row.flags or []),
        reviewer=row.reviewer,
        note=row.note,
        updated_at=row.updated_at,
        history=_history(row) if with_history else [],
    )


def _history(row: TranslationUnitRow) -> list[HistoryEntry]:
    entries: list[HistoryEntry] = []
    before: str | None = None
    for h in row.history:
        entries.append(
            HistoryEntry(
                at=h.at,
                action=h.action,
                status=UnitStatus(h.status),
                text=h.text,
                source_text=h.source_text,
                actor=h.actor,
                note=h.note,
                before=before,
                batch_id=h.batch_id,
            )
        )
        before = h.text
    return entries


# Actions after which a unit may have become, or stopped being, approved: the serving processes are told.
_APPROVAL_MAY_CHANGE = frozenset({"edited", "approved", "rejected", "source_changed"})


def record(
    row: TranslationUnitRow,
    action: str,
    actor: str | None = None,
    note: str | None = None,
    *,
    batch_id: str | None = None,
) -> None:
    """Append the unit's present state to its history (and to the change feed where approval may change);
    `batch_id` names the bulk action it is part of."""
    session = object_session(row)
    if action in _APPROVAL_MAY_CHANGE and session is not None:
        record_changes(session, "translation", [row.course_id])
    row.updated_at = datetime.now(UTC)
    row.history.append(
        TranslationHistoryRow(
            action=action,
            status=row.status,
            text=row.edited if row.edited is not None else row.draft,
            source_text=row.source_text,
            actor=actor,
            note=note,
            batch_id=batch_id,
        )
    )


def list_units(
    session: Session,
    language: str | None = None,
    status: UnitStatus | str | None = None,
    flag: str | None = None,
    *,
    course_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[UnitView]:
    """Units by language, status, QA flag (check id) and course, in a stable order."""
    if status is not None and status not in set(UnitStatus):
        raise InvalidInputError(f"unknown status {status!r}; expected one of {', '.join(UnitStatus)}")
    query = select(TranslationUnitRow).order_by(TranslationUnitRow.id)
    if language is not None:
        query = query.where(TranslationUnitRow.language == language)
    if status is not None:
        query = query.where(TranslationUnitRow.status == status)
    if course_id is not None:
        query = query.where(TranslationUnitRow.course_id == course_id)
    if flag is None:
        rows = session.scalars(query.limit(limit).offset(offset))
        return [view(row, with_history=False) for row in rows]
    # Flags live in a JSON list; filtering them in Python keeps one query for SQLite and PostgreSQL.
    flagged = [row for row in session.scalars(query) if any(f.get("check") == flag for f in row.flags or [])]
    return [view(row, with_history=False) for row in flagged[offset : offset + limit]]


def _row(session: Session, unit_id: int) -> TranslationUnitRow:
    row = session.get(TranslationUnitRow, unit_id)
    if row is None:
        raise UnknownUnitError(str(unit_id))
    return row


def get_unit(session: Session, unit_id: int) -> UnitView:
    return view(_row(session, unit_id))


def find_unit(session: Session, course_id: str, field: str, language: str) -> TranslationUnitRow | None:
    return session.scalar(
        select(TranslationUnitRow).where(
            TranslationUnitRow.course_id == course_id,
            TranslationUnitRow.field == field,
            TranslationUnitRow.language == language,
        )
    )


def _allow(row: TranslationUnitRow, action: Action) -> None:
    allowed = allowed_actions(row.status)
    if action not in allowed:
        raise IllegalTransitionError(row.id, row.status, action, sorted({TARGET[a] for a in allowed}))


def edit_unit(
    session: Session, unit_id: int, text: str, reviewer: str, *, glossary: Glossary | None = None
) -> UnitView:
    """A person's text for the unit; it goes (back) to review and gets fresh QA flags."""
    if not text.strip():
        raise InvalidInputError("the edited text is empty")
    row = _row(session, unit_id)
    _allow(row, Action.EDIT)
    row.edited = text
    row.status = TARGET[Action.EDIT]
    row.reviewer = reviewer
    row.flags = _flags(row.source_text, text, row.language, glossary)
    record(row, "edited", reviewer)
    session.flush()
    return view(row)


def approve_unit(
    session: Session,
    unit_id: int,
    reviewer: str,
    text: str | None = None,
    *,
    override_reason: str | None = None,
    glossary: Glossary | None = None,
    batch_id: str | None = None,
) -> UnitView:
    """Approve the unit (optionally with a final text, which is checked afresh); its translation enters the
    memory. An error flag blocks approval unless `override_reason` says why it is wrong: the override is kept
    in the history, and the memory entry is marked so that its later matches carry a warning."""
    row = _row(session, unit_id)
    _allow(row, Action.APPROVE)
    if text is not None and text != (row.edited if row.edited is not None else row.draft):
        if not text.strip():
            raise InvalidInputError("the text to approve is empty")
        row.edited = text
        row.flags = _flags(row.source_text, text, row.language, glossary)
    final = row.edited if row.edited is not None else row.draft
    if not final:
        raise InvalidInputError(f"unit {unit_id} has no text to approve")
    errors = [f"{flag['check']}: {flag['message']}" for flag in row.flags or [] if flag.get("severity") == "error"]
    reason = (override_reason or "").strip()
    if errors and not reason:
        raise ApprovalBlockedError(unit_id, errors)
    row.status = TARGET[Action.APPROVE]
    row.reviewer = reviewer
    note = f"overrode {'; '.join(errors)} — reason: {reason}" if errors else None
    record(row, "approved", reviewer, note, batch_id=batch_id)
    origin = OVERRIDDEN_ORIGIN if errors else "approved"
    remember(session, row.source_text, final, row.language, origin=origin)
    session.flush()
    return view(row)


def reject_unit(
    session: Session, unit_id: int, reviewer: str, note: str | None = None, *, batch_id: str | None = None
) -> UnitView:
    row = _row(session, unit_id)
    _allow(row, Action.REJECT)
    row.status = TARGET[Action.REJECT]
    row.reviewer = reviewer
    row.note = note
    record(row, "rejected", reviewer, note, batch_id=batch_id)
    session.flush()
    return view(row)


def _flags(source: str, text: str, language: str, glossary: Glossary | None) -> list[dict[str, Any]]:
    return [flag_dict(flag) for flag in run_checks(source, text, language, glossary or Glossary())]


def flag_dict(flag: Flag) -> dict[str, Any]:
    return {"check": flag.check, "severity": flag.severity, "message": flag.message}
