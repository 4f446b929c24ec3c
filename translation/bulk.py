"""Bulk review with care: select units (by id or by the queue's filter), preview what an action would do, apply it
to all of them in one transaction as a batch, and undo that batch.

Each unit of a batch goes through the same workflow function as a single action (`approve_unit`, `reject_unit`),
so the rules hold in bulk too: an error flag is never approved in bulk (an override needs a reason per unit), and
every unit's history names the batch. The batch keeps what it changed of each unit (status, reviewer, note, and
the memory entry its approval wrote) so that undo puts exactly that back, for the units nobody changed since.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.catalog import NotFoundError
from models.changes import record_changes
from models.problems import InvalidInputError
from models.statuses import UnitStatus
from models.tables import (
    ReviewBatchRow,
    ReviewBatchUnitRow,
    TranslationHistoryRow,
    TranslationMemoryRow,
    TranslationUnitRow,
)
from translation.checks import BLOCKING
from translation.memory import source_key
from translation.queue import UnitFilter, find_units
from translation.review import Action, UnitView, allowed_actions, approve_unit, reject_unit, view

BulkAction = Literal["approve", "reject"]
MAX_BATCH = 5_000  # units in one batch: a reviewer previews what they approve, and 5,000 is already a day's work


class UnknownBatchError(NotFoundError):
    def __init__(self, batch_id: str) -> None:
        super().__init__("review batch", batch_id)


@dataclass(frozen=True)
class Selection:
    """Which units a bulk action is for: these ids, or every unit the queue's filter matches (the same units the
    queue lists for it)."""

    unit_ids: Sequence[int] = ()
    matching: UnitFilter = field(default_factory=UnitFilter)
    clean: bool = False  # only units without an error or warning flag


@dataclass(frozen=True)
class Preview:
    action: BulkAction
    eligible: list[UnitView]
    skipped: list[tuple[UnitView, str]]  # with the reason


@dataclass(frozen=True)
class BatchReport:
    batch_id: str | None  # None when nothing was eligible
    applied: int
    skipped: int


@dataclass(frozen=True)
class UndoReport:
    batch_id: str
    restored: int
    changed_since: int  # units changed after the batch, left as they are


def select_units(session: Session, selection: Selection, languages: Collection[str] | None = None) -> list[UnitView]:
    """The units a selection names, limited to `languages` when given (a reviewer's key may be limited)."""
    if selection.unit_ids:
        rows = session.scalars(select(TranslationUnitRow).where(TranslationUnitRow.id.in_(list(selection.unit_ids))))
        found = sorted((view(row, with_history=False) for row in rows), key=lambda unit: unit.id)
        missing = sorted(set(selection.unit_ids) - {unit.id for unit in found})
        if missing:
            raise InvalidInputError(f"unknown unit(s): {', '.join(map(str, missing))}")
        if languages is not None and (other := sorted({u.language for u in found} - set(languages))):
            raise InvalidInputError(f"the selection holds units in {', '.join(other)}, which this key may not review")
        return found
    found = find_units(session, replace(selection.matching, languages=languages), limit=MAX_BATCH + 1)
    if not selection.clean:
        return found
    return [unit for unit in found if not any(flag.get("severity") in BLOCKING for flag in unit.flags)]


def preview_bulk(action: BulkAction, units: Sequence[UnitView]) -> Preview:
    """Which of `units` the action would change, and why it would leave the others."""
    if len(units) > MAX_BATCH:
        raise InvalidInputError(f"{len(units)} units selected; a batch takes at most {MAX_BATCH}: narrow the filter")
    eligible: list[UnitView] = []
    skipped: list[tuple[UnitView, str]] = []
    for unit in units:
        reason = _ineligible(action, unit)
        if reason is None:
            eligible.append(unit)
        else:
            skipped.append((unit, reason))
    return Preview(action, eligible, skipped)


def apply_bulk(
    session: Session, action: BulkAction, unit_ids: Sequence[int], actor: str, *, note: str | None = None
) -> BatchReport:
    """Apply `action` to the units, in the caller's transaction, as one batch (units no longer eligible, e.g.
    changed since the preview, are skipped). Returns the batch's id for undo."""
    rows = list(session.scalars(select(TranslationUnitRow).where(TranslationUnitRow.id.in_(list(unit_ids)))))
    if len(rows) > MAX_BATCH:
        raise InvalidInputError(f"{len(rows)} units; a batch takes at most {MAX_BATCH}")
    eligible = [row for row in sorted(rows, key=lambda row: row.id) if _ineligible(action, view(row, False)) is None]
    if not eligible:
        return BatchReport(batch_id=None, applied=0, skipped=len(rows))
    batch = ReviewBatchRow(id=secrets.token_hex(8), action=action, actor=actor, created_at=datetime.now(UTC))
    session.add(batch)
    for row in eligible:
        memory = _memory_row(session, row) if action == "approve" else None
        batch.units.append(
            ReviewBatchUnitRow(
                unit_id=row.id,
                status_before=row.status,
                reviewer_before=row.reviewer,
                note_before=row.note,
                memory_before=memory.target_text if memory is not None else None,
                memory_origin_before=memory.origin if memory is not None else None,
            )
        )
        if action == "approve":
            approve_unit(session, row.id, actor, batch_id=batch.id)
        else:
            reject_unit(session, row.id, actor, note, batch_id=batch.id)
    session.flush()
    return BatchReport(batch_id=batch.id, applied=len(eligible), skipped=len(rows) - len(eligible))


def bulk_approve_clean(session: Session, language: str, reviewer: str, limit: int | None = None) -> BatchReport:
    """Approve, as one batch, the machine translations of `language` without an error or warning flag."""
    selection = Selection(matching=UnitFilter(language=language, status=UnitStatus.MACHINE_TRANSLATED), clean=True)
    units = select_units(session, selection)[:limit]
    return apply_bulk(session, "approve", [unit.id for unit in units], reviewer)


def get_batch(session: Session, batch_id: str) -> ReviewBatchRow:
    batch = session.get(ReviewBatchRow, batch_id)
    if batch is None:
        raise UnknownBatchError(batch_id)
    return batch


def undo_batch(session: Session, batch_id: str, actor: str) -> UndoReport:
    """Put back every unit of the batch that nobody changed since (its latest history entry is the batch's),
    with the memory entries its approvals wrote; each restored unit's history records the undo."""
    batch = get_batch(session, batch_id)
    if batch.undone_at is not None:
        raise InvalidInputError(f"batch {batch_id} was already undone")
    restored = changed = 0
    courses: list[str] = []
    # Last applied first, so that two units sharing one memory entry put it back as it was before both.
    for kept in sorted(batch.units, key=lambda unit: unit.unit_id, reverse=True):
        row = session.get(TranslationUnitRow, kept.unit_id)
        if row is None or not row.history or row.history[-1].batch_id != batch.id:
            changed += 1
            continue
        if batch.action == "approve":
            _restore_memory(session, row, kept)
        row.status, row.reviewer, row.note = kept.status_before, kept.reviewer_before, kept.note_before
        row.updated_at = datetime.now(UTC)
        row.history.append(
            TranslationHistoryRow(
                action="undone",
                status=row.status,
                text=row.edited if row.edited is not None else row.draft,
                source_text=row.source_text,
                actor=actor,
                note=f"undid bulk {batch.action} (batch {batch.id})",
                batch_id=batch.id,
            )
        )
        courses.append(row.course_id)
        restored += 1
    if courses:
        record_changes(session, "translation", courses)
    batch.undone_at, batch.undone_by = datetime.now(UTC), actor
    session.flush()
    return UndoReport(batch_id=batch.id, restored=restored, changed_since=changed)


def _ineligible(action: BulkAction, unit: UnitView) -> str | None:
    if Action(action) not in allowed_actions(unit.status):
        return f"cannot {action} a unit that is {UnitStatus(unit.status).value.replace('_', ' ')}"
    if action == "approve" and not unit.text:
        return "no text to approve"
    if action == "approve" and any(flag.get("severity") == "error" for flag in unit.flags):
        return "an error flag blocks approval (override it on the unit's page, with a reason)"
    return None


def _memory_row(session: Session, row: TranslationUnitRow) -> TranslationMemoryRow | None:
    return session.scalar(
        select(TranslationMemoryRow).where(
            TranslationMemoryRow.source_language == "en",
            TranslationMemoryRow.target_language == row.language,
            TranslationMemoryRow.source_key == source_key(row.source_text),
        )
    )


def _restore_memory(session: Session, row: TranslationUnitRow, kept: ReviewBatchUnitRow) -> None:
    memory = _memory_row(session, row)
    if memory is None:
        return
    if kept.memory_before is None:
        session.delete(memory)  # the approval created it
    else:
        memory.target_text, memory.origin = kept.memory_before, kept.memory_origin_before or memory.origin
