"""Ingest files into the database: validate the whole file first, then write it in one transaction.

A file with any invalid record is rejected whole (nothing is written) unless `skip_invalid` is set.
Re-ingesting a file changes nothing: each record's content hash is compared with the stored one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from models.changes import lock_feed, record_changes
from models.course_shapes import CSV_COLUMNS, CompetencyIndex, normalise_course, source_key
from models.kcm_document import ParsedModel, read_competency_model
from models.problems import IngestRejectedError, InvalidRecordError, Problem, problems_from_validation
from models.records import RawRecord, iter_raw_records
from models.schemas import Course, Learner, Role, content_hash
from models.tables import (
    CompetencyAreaRow,
    CompetencyLevelRow,
    CompetencyRow,
    CompetencyThemeRow,
    CourseCompetencyRow,
    CourseRow,
    LearnerCompetencyRow,
    LearnerCourseRow,
    LearnerRoleRow,
    LearnerRow,
    ProficiencyLevelRow,
    RoleCompetencyRow,
    RoleRow,
    table_of,
)

Kind = Literal["competencies", "roles", "courses", "learners"]
KINDS: tuple[Kind, ...] = ("competencies", "roles", "courses", "learners")
CHUNK = 1000
WRITE_ATTEMPTS = 3  # a write that collides with a concurrent identical ingest is tried again
Progress = Callable[[int], None]


@dataclass
class IngestReport:
    kind: str
    file: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.created + self.updated


@dataclass
class References:
    """What records may point at: the catalog as it is in the database now."""

    competencies: CompetencyIndex
    roles: set[str]
    courses: set[str]

    @classmethod
    def load(cls, connection: Connection) -> References:
        themes = dict(connection.execute(select(CompetencyThemeRow.id, CompetencyThemeRow.name)).all())
        rows = connection.execute(select(CompetencyRow.id, CompetencyRow.name, CompetencyRow.theme_id)).all()
        return cls(
            competencies=CompetencyIndex.build((cid, name, themes.get(tid, "")) for cid, name, tid in rows),
            roles=set(connection.scalars(select(RoleRow.id))),
            courses=set(connection.scalars(select(CourseRow.identifier))),
        )


def ingest_file(
    engine: Engine, kind: Kind, path: Path, *, skip_invalid: bool = False, progress: Progress | None = None
) -> IngestReport:
    """Validate `path` as records of `kind` and write them; raise IngestRejectedError on any problem."""
    if kind == "competencies":
        return _ingest_competency_model(engine, path, skip_invalid)
    with engine.connect() as connection:
        references = References.load(connection)
    # Pass 1 validates everything without keeping records, so files of millions of lines fit in memory.
    problems: list[Problem] = []
    bad_lines: set[int] = set()
    seen: dict[str, int] = {}
    for line, record, record_problems in _validated(kind, path, references):
        if record is not None:
            record_id = _record_id(record)
            if record_id in seen:
                reason = f"duplicate identifier {record_id!r} (first on line {seen[record_id]})"
                record_problems = [Problem(path.name, line, _id_field(kind), reason, record_id)]
            else:
                seen[record_id] = line
        if record_problems:
            problems.extend(record_problems)
            bad_lines.add(line)
    if problems and not skip_invalid:
        raise IngestRejectedError(problems)

    for attempt in range(1, WRITE_ATTEMPTS + 1):
        report = IngestReport(kind, path.name, skipped=problems)
        good = (record for line, record, _ in _validated(kind, path, references) if line not in bad_lines and record)
        try:
            with engine.begin() as connection:
                lock_feed(connection)
                for chunk in _chunks(good, CHUNK):
                    _WRITERS[kind](connection, chunk, report)
                    if progress:
                        progress(len(chunk))
            return report
        except IntegrityError:
            # A concurrent ingest inserted the same new records first (SQLite reads before it takes its write
            # lock): nothing of this attempt was written; the next one finds those rows and updates or keeps them.
            if attempt == WRITE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


# --- validation -----------------------------------------------------------------------------------------


def _validated(kind: Kind, path: Path, references: References) -> Iterator[tuple[int, Any, list[Problem]]]:
    for item in iter_raw_records(path, CSV_COLUMNS if kind == "courses" else None):
        if isinstance(item, Problem):
            yield item.line, None, [item]
            continue
        try:
            record = _PARSERS[kind](item, references, path)
        except InvalidRecordError as error:
            yield item.line, None, [Problem(path.name, item.line, error.field, error.reason, _raw_id(item.data))]
            continue
        except ValidationError as error:
            problems = problems_from_validation(error, path.name, item.line, _raw_id(item.data))
            yield item.line, None, [_in_source_terms(p, item.data) for p in problems]
            continue
        yield item.line, record, _reference_problems(record, references, path.name, item.line)


def _parse_role(item: RawRecord, _references: References, _path: Path) -> Role:
    return Role.model_validate(item.data)


def _parse_course(item: RawRecord, references: References, path: Path) -> Course:
    data = normalise_course(item.data, references.competencies, from_csv=path.suffix.lower() == ".csv")
    return Course.model_validate(data)


def _parse_learner(item: RawRecord, _references: References, _path: Path) -> Learner:
    return Learner.model_validate(item.data)


_PARSERS: dict[str, Callable[[RawRecord, References, Path], Any]] = {
    "roles": _parse_role,
    "courses": _parse_course,
    "learners": _parse_learner,
}


def _reference_problems(record: Any, references: References, file: str, line: int) -> list[Problem]:
    record_id = _record_id(record)
    found: list[Problem] = []

    def need(known: set[str], values: list[str], field_name: str, what: str) -> None:
        for position, value in enumerate(values):
            if value not in known:
                found.append(Problem(file, line, f"{field_name}[{position}]", f"unknown {what} {value!r}", record_id))

    if isinstance(record, Role | Learner):
        need(references.competencies.ids, [c.competency_id for c in record.competencies], "competencies", "competency")
    if isinstance(record, Learner):
        need(references.roles, record.roles, "roles", "role")
        need(references.courses, record.enrolled, "enrolled", "course")
        need(references.courses, record.completed, "completed", "course")
    return found


def _in_source_terms(problem: Problem, data: dict[str, Any]) -> Problem:
    """Name the field as the input file spells it (`duration`, not `duration_seconds`)."""
    head, dot, rest = problem.field.partition(".")
    key = source_key(data, head)
    return Problem(problem.file, problem.line, key + dot + rest, problem.reason, problem.record_id)


def _raw_id(data: dict[str, Any]) -> str | None:
    value = data.get("identifier", data.get("id"))
    return str(value) if value is not None else None


def _record_id(record: Any) -> str:
    return record.identifier if isinstance(record, Course) else record.id


def _id_field(kind: Kind) -> str:
    return "identifier" if kind == "courses" else "id"


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(items, size)):
        yield chunk


# --- writing --------------------------------------------------------------------------------------------


# (id, parent row values including content_hash, child rows by table)
_Record = tuple[str, dict[str, Any], dict[Table, list[dict[str, Any]]]]


def _upsert(
    connection: Connection, parent: Table, key: str, records: list[_Record], *, report: IngestReport
) -> list[str]:
    """Insert new parents, update changed ones (replacing their child rows), leave equal ones alone; returns the
    identifiers written."""
    ids = [record_id for record_id, _, _ in records]
    stored = dict(connection.execute(select(parent.c[key], parent.c.content_hash).where(parent.c[key].in_(ids))).all())
    new = [r for r in records if r[0] not in stored]
    changed = [r for r in records if r[0] in stored and stored[r[0]] != r[1]["content_hash"]]
    report.unchanged += len(records) - len(new) - len(changed)
    report.created += len(new)
    report.updated += len(changed)
    if changed:
        changed_ids = [record_id for record_id, _, _ in changed]
        for child in records[0][2]:
            # The child column pointing at this parent; children also point at competencies, roles and courses.
            foreign = next(fk for fk in child.foreign_keys if fk.column.table is parent).parent.name
            connection.execute(delete(child).where(child.c[foreign].in_(changed_ids)))
        for record_id, values, _ in changed:
            connection.execute(update(parent).where(parent.c[key] == record_id).values(**values))
    if new:
        connection.execute(insert(parent), [values for _, values, _ in new])
    for child in records[0][2]:
        rows = [row for _, _, children in new + changed for row in children[child]]
        if rows:
            connection.execute(insert(child), rows)
    return [record_id for record_id, _, _ in new + changed]


def _write_roles(connection: Connection, roles: list[Role], report: IngestReport) -> None:
    records: list[_Record] = []
    for role in roles:
        values = role.model_dump(exclude={"competencies"}) | {"content_hash": content_hash(role)}
        children = [
            {"role_id": role.id, "competency_id": c.competency_id, "level": c.level, "importance": c.importance}
            for c in role.competencies
        ]
        records.append((role.id, values, {table_of(RoleCompetencyRow): children}))
    if _upsert(connection, table_of(RoleRow), "id", records, report=report):
        record_changes(connection, "catalog")


def _write_courses(connection: Connection, courses: list[Course], report: IngestReport) -> None:
    records: list[_Record] = []
    for course in courses:
        values = course.model_dump(exclude={"competencies"}) | {"content_hash": content_hash(course)}
        children = [
            {"course_id": course.identifier, "competency_id": c.competency_id, "level": c.level}
            for c in course.competencies
        ]
        records.append((course.identifier, values, {table_of(CourseCompetencyRow): children}))
    record_changes(connection, "course", _upsert(connection, table_of(CourseRow), "identifier", records, report=report))


def _write_learners(connection: Connection, learners: list[Learner], report: IngestReport) -> None:
    records: list[_Record] = []
    for learner in learners:
        values = learner.model_dump(include={"id", "name", "department", "preferred_languages", "interests"})
        values["content_hash"] = content_hash(learner)
        roles: list[dict[str, Any]] = [
            {"learner_id": learner.id, "role_id": r, "position": i} for i, r in enumerate(learner.roles)
        ]
        courses: list[dict[str, Any]] = [
            {"learner_id": learner.id, "course_id": c, "status": "enrolled"} for c in learner.enrolled
        ]
        courses += [{"learner_id": learner.id, "course_id": c, "status": "completed"} for c in learner.completed]
        levels: list[dict[str, Any]] = [
            {"learner_id": learner.id, "competency_id": c.competency_id, "level": c.level, "source": c.source}
            for c in learner.competencies
        ]
        children = {
            table_of(LearnerRoleRow): roles,
            table_of(LearnerCourseRow): courses,
            table_of(LearnerCompetencyRow): levels,
        }
        records.append((learner.id, values, children))
    if _upsert(connection, table_of(LearnerRow), "id", records, report=report):
        record_changes(connection, "learners")  # departments' popularity is part of what the recommender holds


_WRITERS: dict[str, Callable[[Connection, list[Any], IngestReport], None]] = {
    "roles": _write_roles,
    "courses": _write_courses,
    "learners": _write_learners,
}


def _ingest_competency_model(engine: Engine, path: Path, skip_invalid: bool) -> IngestReport:
    parsed = read_competency_model(path)
    if parsed.problems and not skip_invalid:
        raise IngestRejectedError(parsed.problems)
    report = IngestReport("competencies", path.name, skipped=parsed.problems)
    with engine.begin() as connection:
        lock_feed(connection)
        _write_competency_model(connection, parsed, report)
        if report.written:
            record_changes(connection, "catalog")  # competency names are part of every course's indexed text
    return report


def _write_competency_model(connection: Connection, parsed: ParsedModel, report: IngestReport) -> None:
    level_rows = [level.model_dump() for level in parsed.levels]
    _sync(connection, table_of(ProficiencyLevelRow), "level", level_rows, report=report)
    _sync(connection, table_of(CompetencyAreaRow), "id", [a.model_dump() for a in parsed.areas], report=report)
    _sync(connection, table_of(CompetencyThemeRow), "id", [t.model_dump() for t in parsed.themes], report=report)
    competency_rows = [c.model_dump(exclude={"levels"}) for c in parsed.competencies]
    _sync(connection, table_of(CompetencyRow), "id", competency_rows, report=report)
    descriptor_rows = [
        {"competency_id": c.id, "level": level, "descriptor": text}
        for c in parsed.competencies
        for level, text in c.levels.items()
    ]
    table = table_of(CompetencyLevelRow)
    stored = {(r.competency_id, r.level): r.descriptor for r in connection.execute(select(table))}
    for row in descriptor_rows:
        current = stored.get((row["competency_id"], row["level"]))
        if current is None:
            connection.execute(insert(table).values(**row))
        elif current != row["descriptor"]:
            connection.execute(
                update(table)
                .where(table.c.competency_id == row["competency_id"], table.c.level == row["level"])
                .values(descriptor=row["descriptor"])
            )


def _sync(connection: Connection, table: Table, key: str, rows: list[dict[str, Any]], *, report: IngestReport) -> None:
    """Upsert small reference tables by comparing values; counts only what changed."""
    stored = {row[key]: dict(row) for row in connection.execute(select(table)).mappings()}
    for row in rows:
        current = stored.get(row[key])
        if current is None:
            connection.execute(insert(table).values(**row))
            report.created += 1
        elif any(current[column] != value for column, value in row.items()):
            connection.execute(update(table).where(table.c[key] == row[key]).values(**row))
            report.updated += 1
        else:
            report.unchanged += 1
