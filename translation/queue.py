"""The review queue as a reviewer works from it: units filtered by language, status, QA flag, text and field, in
id, priority or popularity order; counts per language and status; and a unit's neighbours in that order, so that
"next" after an action follows the queue the reviewer came from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from models.problems import InvalidInputError
from models.statuses import UnitStatus
from models.tables import CourseRow, TranslationUnitRow
from translation.checks import CHECKS
from translation.pipeline import MEMORY_WARNING
from translation.review import UnitView, view

FLAG_CHECKS: tuple[str, ...] = (*CHECKS, MEMORY_WARNING)  # what a unit's flags can name
FIELDS: tuple[str, ...] = ("name", "description")
Unit = TranslationUnitRow


class UnitOrder(StrEnum):
    """The queue's order: unit id, translation priority (learners a course serves) or popularity (ratings)."""

    ID = "id"
    PRIORITY = "priority"
    POPULARITY = "popularity"


@dataclass(frozen=True)
class UnitFilter:
    """Which units, in which order. `languages` limits them to a key's languages; `ranking` is the course ids in
    priority order (order=priority), the other courses' units coming after them, by id."""

    language: str | None = None
    status: str | None = None
    flag: str | None = None
    q: str | None = None  # in the source, the draft or the edited text (case-insensitive)
    field: str | None = None
    course_id: str | None = None
    languages: Collection[str] | None = None
    order: UnitOrder = UnitOrder.ID
    ranking: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in set(UnitStatus):
            raise InvalidInputError(f"unknown status {self.status!r}; expected one of {', '.join(UnitStatus)}")
        if self.flag is not None and self.flag not in FLAG_CHECKS:
            raise InvalidInputError(f"unknown QA check {self.flag!r}; expected one of {', '.join(FLAG_CHECKS)}")
        if self.field is not None and self.field not in FIELDS:
            raise InvalidInputError(f"unknown field {self.field!r}; expected one of {', '.join(FIELDS)}")

    def conditions(self, *, with_status: bool = True) -> list[ColumnElement[bool]]:
        """The SQL conditions of every filter but the flag's (flags are a JSON list: checked in Python)."""
        found: list[ColumnElement[bool]] = []
        for column, value in (
            (Unit.language, self.language),
            (Unit.status, self.status if with_status else None),
            (Unit.field, self.field),
            (Unit.course_id, self.course_id),
        ):
            if value is not None:
                found.append(column == value)
        if self.languages is not None:
            found.append(Unit.language.in_(list(self.languages)))
        if self.q:
            pattern = "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            found.append(
                or_(*(column.ilike(pattern, escape="\\") for column in (Unit.source_text, Unit.draft, Unit.edited)))
            )
        return found

    def flagged(self, flags: list[dict[str, Any]] | None) -> bool:
        return self.flag is None or any(f.get("check") == self.flag for f in flags or [])


def _ordered(query: Select[Any], unit_filter: UnitFilter) -> Select[Any]:
    if unit_filter.order is UnitOrder.POPULARITY:
        rating = func.coalesce(CourseRow.rating_count, 0)
        query = query.outerjoin(CourseRow, CourseRow.identifier == Unit.course_id)
        return query.order_by(rating.desc(), Unit.id)
    if unit_filter.order is UnitOrder.PRIORITY and unit_filter.ranking:
        rank = {course: position for position, course in reversed(list(enumerate(unit_filter.ranking)))}
        return query.order_by(case(rank, value=Unit.course_id, else_=len(rank)), Unit.id)
    return query.order_by(Unit.id)


def find_units(session: Session, unit_filter: UnitFilter, *, limit: int = 100, offset: int = 0) -> list[UnitView]:
    """One page of the units the filter matches, in its order."""
    query = _ordered(select(Unit).where(*unit_filter.conditions()), unit_filter)
    if unit_filter.flag is None:
        return [view(row, with_history=False) for row in session.scalars(query.limit(limit).offset(offset))]
    flagged = [row for row in session.scalars(query) if unit_filter.flagged(row.flags)]
    return [view(row, with_history=False) for row in flagged[offset : offset + limit]]


@dataclass(frozen=True)
class UnitCounts:
    """Units per (language, status) among those a filter matches, whatever its status."""

    cells: dict[tuple[str, UnitStatus], int] = field(default_factory=dict)

    def by_status(self) -> dict[UnitStatus, int]:
        totals: Counter[UnitStatus] = Counter()
        for (_, status), count in self.cells.items():
            totals[status] += count
        return {status: totals[status] for status in UnitStatus}

    def by_language(self) -> dict[str, dict[UnitStatus, int]]:
        rows: dict[str, dict[UnitStatus, int]] = {}
        for (language, status), count in sorted(self.cells.items()):
            rows.setdefault(language, dict.fromkeys(UnitStatus, 0))[status] = count
        return rows

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    @property
    def approved(self) -> int:
        return self.by_status()[UnitStatus.APPROVED]


def count_units(session: Session, unit_filter: UnitFilter) -> UnitCounts:
    """How many units match the filter in each language and status (its own status is left out, so that the
    queue can show every status's count beside the chosen one)."""
    conditions = unit_filter.conditions(with_status=False)
    if unit_filter.flag is None:
        query = select(Unit.language, Unit.status, func.count()).where(*conditions).group_by(Unit.language, Unit.status)
        return UnitCounts({(language, UnitStatus(status)): count for language, status, count in session.execute(query)})
    counted: Counter[tuple[str, UnitStatus]] = Counter()
    for language, status, flags in session.execute(select(Unit.language, Unit.status, Unit.flags).where(*conditions)):
        if unit_filter.flagged(flags):
            counted[language, UnitStatus(status)] += 1
    return UnitCounts(dict(counted))


@dataclass(frozen=True)
class Neighbours:
    """Where a unit stands in a filtered queue: the units before and after it, its place (1-based; None when it
    no longer matches, e.g. just approved in a queue of machine translations) and how many match."""

    previous: int | None
    next: int | None
    position: int | None
    total: int


def unit_neighbours(session: Session, unit_id: int, unit_filter: UnitFilter) -> Neighbours:
    """The units before and after `unit_id` in the filter's order, counting the unit itself in its place even when
    it no longer matches: "next" after approving a unit is the one that followed it."""
    matching = and_(*unit_filter.conditions())
    flags = Unit.flags if unit_filter.flag is not None else None  # read only when filtered by (a JSON list)
    columns = (Unit.id, Unit.flags) if flags is not None else (Unit.id,)
    query = _ordered(select(*columns).where(or_(matching, Unit.id == unit_id)), unit_filter)
    ids: list[int] = []
    for row in session.execute(query):
        if row[0] == unit_id or unit_filter.flagged(row[1] if flags is not None else None):
            ids.append(row[0])
    if unit_id not in ids:
        return Neighbours(previous=None, next=None, position=None, total=len(ids))
    current = session.execute(select(Unit.flags).where(Unit.id == unit_id, matching)).first()
    matches = current is not None and unit_filter.flagged(current[0])
    if unit_id not in ids:
        return Neighbours(previous=None, next=None, position=None, total=len(ids))
    at = ids.index(unit_id)
    return Neighbours(
        previous=ids[at - 1] if at > 0 else None,
        next=ids[at + 1] if at + 1 < len(ids) else None,
        position=at + 1 if matches else None,
        total=len(ids) if matches else len(ids) - 1,
    )
