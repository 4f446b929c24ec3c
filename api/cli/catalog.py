"""Catalog commands: migrate the database, ingest files, statistics, show courses and roles."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.context import console, engine, errors, print_json, progress_bar, reports_errors
from api.cli.tables import add_figure, add_name, table
from models import (
    LEVEL_NAMES,
    Competency,
    IngestReport,
    InvalidInputError,
    Role,
    catalog_stats,
    get_course,
    get_role,
    ingest_file,
    load_competency_model,
    retire_course,
    session_scope,
    upgrade,
)
from models.text_policy import printable

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
courses_app = typer.Typer(help="Look at courses, or retire one.", no_args_is_help=True)
roles_app = typer.Typer(help="Look at roles and their competency profiles.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@db_app.command("upgrade")
@reports_errors
def db_upgrade() -> None:
    """Create or migrate the schema (SQLite under KARMAYOGI_HOME, or DATABASE_URL)."""
    upgrade(engine(checked=False))
    console.print("database schema is up to date")


class Kind(StrEnum):
    competencies = "competencies"
    roles = "roles"
    courses = "courses"
    learners = "learners"


@reports_errors
def ingest(
    kind: Annotated[Kind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Write the valid records and report the rest.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Validate FILE whole and write it in one transaction; any invalid record rejects the file."""
    total = None if kind is Kind.competencies else _count_lines(file)
    with progress_bar(f"ingesting {kind}", total, unit="records") as advance:
        report = ingest_file(engine(), kind.value, file, skip_invalid=skip_invalid, progress=advance)
    if report.created + report.updated + report.unchanged + len(report.skipped) == 0:
        # As POST /v1/courses/bulk answers an empty body: a file without a single record is a mistake.
        raise InvalidInputError(f"{file.name}: the file holds no records; nothing was written")
    for problem in report.skipped:
        errors.print(f"skipped {printable(str(problem))}", markup=False, highlight=False)
    if as_json:
        print_json(_report_json(report))
    else:
        console.print(
            f"{report.file}: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.skipped)} skipped ({kind})"
        )


def _count_lines(file: Path) -> int:
    with file.open("rb") as handle:
        return sum(1 for line in handle if line.strip()) - (1 if file.suffix.lower() == ".csv" else 0)


def _report_json(report: IngestReport) -> dict[str, object]:
    return {
        "kind": report.kind,
        "file": report.file,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "skipped": [str(problem) for problem in report.skipped],
    }


@reports_errors
def stats(as_json: JsonOption = False) -> None:
    """Catalog statistics: KCM size, roles, courses by language and format, learners."""
    with session_scope(engine()) as session:
        numbers = catalog_stats(session)
    if as_json:
        print_json(asdict(numbers) | {"non_english_share": round(numbers.non_english_share, 3)})
        return
    shown = table("Catalog", show_header=False)
    add_name(shown, "what", min_width=20)
    add_figure(shown, "count")
    for label, value in [
        ("competency areas", numbers.areas),
        ("themes", numbers.themes),
        ("competencies (sub-themes)", numbers.competencies),
        ("roles", numbers.roles),
        ("departments", numbers.departments),
        ("ministries / state governments", numbers.ministries),
        ("courses", numbers.courses),
        ("  retired (not counted above)", numbers.courses_retired),
        ("  in an Indian language", f"{numbers.courses_non_english} ({numbers.non_english_share:.0%})"),
        ("providers", numbers.providers),
        ("learners", numbers.learners),
    ]:
        shown.add_row(label, str(value))
    console.print(shown)
    console.print("courses by language: " + ", ".join(f"{k} {v}" for k, v in numbers.courses_by_language.items()))
    console.print("courses by source format: " + ", ".join(f"{k} {v}" for k, v in numbers.courses_by_format.items()))
    console.print("courses by competency area: " + ", ".join(f"{k} {v}" for k, v in numbers.courses_by_area.items()))


@courses_app.command("show")
@reports_errors
def courses_show(identifier: str, as_json: JsonOption = False) -> None:
    """One course with its competencies."""
    with session_scope(engine()) as session:
        course = get_course(session, identifier)
        names = {c.id: c.name for c in load_competency_model(session).competencies}
    if as_json:
        print_json(course)
        return
    console.print(f"[bold]{course.name}[/]  ({course.identifier})", highlight=False)
    minutes = f"{course.duration_seconds // 60} min" if course.duration_seconds is not None else "duration unknown"
    rating = f"{course.rating:.1f} ({course.rating_count} ratings)" if course.rating is not None else "not rated"
    console.print(
        f"{', '.join(course.organisations) or 'provider unknown'} · {course.primary_category} · "
        f"{', '.join(course.languages)} · {minutes} · {rating}",
        highlight=False,
    )
    console.print(course.description, highlight=False)
    for competency in course.competencies:
        level = LEVEL_NAMES.get(competency.level or 0, "level not stated")
        console.print(f"  • {names.get(competency.competency_id, competency.competency_id)} — {level}")


@courses_app.command("retire")
@reports_errors
def courses_retire(identifier: str, as_json: JsonOption = False) -> None:
    """Take a course out of search and recommendations (a running service follows within about a second); its
    record, history and translations stay. Ingest it again with status active to bring it back."""
    with session_scope(engine()) as session:
        changed = retire_course(session, identifier)
    if as_json:
        print_json({"identifier": identifier, "retired": True, "changed": changed})
        return
    console.print(f"{identifier}: {'retired' if changed else 'already retired'}", highlight=False)


@roles_app.command("show")
@reports_errors
def roles_show(role_id: str, as_json: JsonOption = False) -> None:
    """A role's competency profile: what it requires, at which level, how important."""
    with session_scope(engine()) as session:
        role = get_role(session, role_id)
        model = load_competency_model(session)
    if as_json:
        print_json(role)
        return
    print_role_profile(role, {c.id: c for c in model.competencies}, {a.id: a.name for a in model.areas})


def print_role_profile(role: Role, competencies: dict[str, Competency], areas: dict[str, str]) -> None:
    """Shared by `roles show` and the demo."""
    place = role.state or role.ministry or ""
    table = Table(title=f"{role.designation} — {role.department}{', ' + place if place else ''}")
    table.add_column("area")
    table.add_column("competency")
    table.add_column("required level")
    table.add_column("importance")
    for required in sorted(role.competencies, key=lambda r: (-r.importance, -r.level)):
        competency = competencies[required.competency_id]
        table.add_row(
            areas.get(competency.area_id, competency.area_id),
            competency.name,
            f"{required.level} {LEVEL_NAMES[required.level]}",
            {1: "useful", 2: "important", 3: "critical"}[required.importance],
        )
    console.print(table)
