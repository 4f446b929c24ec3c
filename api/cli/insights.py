"""Catalog insights for content teams: `karmayogi insights coverage|translate-priorities|readiness`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from api.cli.context import console, engine, print_json, reports_errors, settings
from api.cli.tables import add_figure, add_identifier, add_name, plain, table
from models import LEVEL_NAMES, iter_learners, normalise_language, session_scope
from recommender.inputs import load_inputs
from recommender.insights import (
    DEFAULT_MIN_FIT,
    CoverageMatrix,
    TranslationPriorities,
    coverage_matrix,
    role_readiness,
    translation_priorities,
)

insights_app = typer.Typer(help="Where the catalog falls short: coverage, translation priorities, role readiness.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
MinFitOption = Annotated[
    float,
    typer.Option(
        "--min-fit", min=0.0, max=1.0, help="How well a course's tagged level must fit a target level to count."
    ),
]


def default_image(name: str) -> Path:
    return settings().home / "insights" / name


@insights_app.command("coverage")
@reports_errors
def coverage(
    lang: Annotated[
        list[str] | None, typer.Option("--lang", help="A language column (repeatable; default: the portal's).")
    ] = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="Heatmap PNG (default: KARMAYOGI_HOME/insights/coverage.png).")
    ] = None,
    min_fit: MinFitOption = DEFAULT_MIN_FIT,
    as_json: JsonOption = False,
) -> None:
    """Competency × language matrix: courses (direct or via approved translation) for every required competency."""
    from recommender.insights_plot import coverage_heatmap

    languages = [normalise_language(code) for code in lang] if lang else None
    with session_scope(engine()) as session:
        inputs = load_inputs(session)
    matrix = coverage_matrix(inputs, languages, min_fit)
    written = coverage_heatmap(matrix, image or default_image("coverage.png"))
    if as_json:
        print_json({"languages": matrix.languages, "image": str(written), "competencies": matrix.as_records()})
        return
    print_coverage(matrix)
    console.print(f"heatmap: {written}", highlight=False)


@insights_app.command("translate-priorities")
@reports_errors
def translate_priorities(
    lang: Annotated[str, typer.Option("--lang", help="Target language, e.g. ta.")],
    source: Annotated[
        str, typer.Option("--from", help="Only courses available in this language are candidates; 'any' for all.")
    ] = "en",
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many courses.")] = 20,
    min_fit: MinFitOption = DEFAULT_MIN_FIT,
    *,
    as_json: JsonOption = False,
) -> None:
    """Courses to translate into a language first, by the learners whose unserved gaps each would close."""
    language = normalise_language(lang)
    source_language = None if source == "any" else normalise_language(source)
    with session_scope(engine()) as session:
        inputs = load_inputs(session)
        result = translation_priorities(
            inputs, iter_learners(session), language, source=source_language, limit=limit, min_fit=min_fit
        )
    if as_json:
        print_json(asdict(result))
        return
    print_priorities(result, {c: inputs.competencies[c].name for c in inputs.competencies})


@insights_app.command("readiness")
@reports_errors
def readiness(
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Count only courses available in this language (default: any language)."),
    ] = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="Also write a bar chart as PNG (default: no chart).")
    ] = None,
    min_fit: MinFitOption = DEFAULT_MIN_FIT,
    as_json: JsonOption = False,
) -> None:
    """Per role: the share of required competency-levels that the catalog can build, least ready first."""
    language = normalise_language(lang) if lang else None
    with session_scope(engine()) as session:
        inputs = load_inputs(session)
    results = role_readiness(inputs, language, min_fit)
    if image is not None:
        from recommender.insights_plot import readiness_chart

        readiness_chart(results, image, f"Role readiness ({language or 'any language'})")
    if as_json:
        print_json([{**asdict(r), "share": round(r.share, 4)} for r in results])
        return
    shown = table(f"Role readiness — {language or 'any language'}")
    add_identifier(shown, "role", [result.role_id for result in results])
    add_name(shown, "designation", min_width=10)
    add_figure(shown, "levels")
    add_figure(shown, "share")
    add_name(shown, "missing (competency: levels)", ratio=2)
    for result in results:
        missing = "; ".join(
            f"{r.competency_id}{'!' if r.importance == 3 else ''}: {','.join(map(str, r.missing_levels))}"
            for r in result.requirements
            if r.missing_levels
        )
        shown.add_row(
            result.role_id,
            escape(result.designation),
            f"{result.levels_closable}/{result.levels_required}",
            f"{100 * result.share:.0f}%",
            missing or "—",
        )
    console.print(shown)
    console.print("levels: a competency required at level 3 counts levels 1–3; ! marks a critical competency")
    if image is not None:
        console.print(f"chart: {image}", highlight=False)


# Below this many columns left for names, the names are listed under the matrix instead of beside it.
NAME_ROOM = 24


def print_coverage(matrix: CoverageMatrix) -> None:
    ids = [competency.id for competency in matrix.competencies]
    figures = [
        max(len(language), len(str(int(matrix.courses[:, j].max(initial=0)))))
        for j, language in enumerate(matrix.languages)
    ]
    fixed = max([10, *map(len, ids)]) + 4 + sum(width + 1 for width in figures)  # one space between columns
    beside = console.width - fixed >= NAME_ROOM
    shown = table("Courses per required competency and language (direct or via approved translation)")
    add_identifier(shown, "competency", ids)
    if beside:
        add_name(shown, "name")
    add_figure(shown, "req")
    for language in matrix.languages:
        add_figure(shown, language)
    for i, competency in enumerate(matrix.competencies):
        cells = []
        for j in range(len(matrix.languages)):
            count = int(matrix.courses[i, j])
            if count == 0:
                cells.append("[red]0[/]")
            elif matrix.at_required[i, j] == 0:  # courses exist, none up to the required level
                cells.append(f"{count}*" if plain() else f"[yellow]{count}[/]")
            else:
                cells.append(str(count))
        level = int(matrix.required_level[i])
        shown.add_row(competency.id, *([escape(competency.name)] if beside else []), f"{level}", *cells)
    console.print(shown)
    if not beside:
        names = table("Competencies")
        add_identifier(names, "competency", ids)
        add_name(names, "name")
        for competency in matrix.competencies:
            names.add_row(competency.id, escape(competency.name))
        console.print(names)
    empty = matrix.empty_cells()
    total = matrix.courses.size
    console.print(
        f"{len(matrix.competencies)} required competencies × {len(matrix.languages)} languages: "
        f"{empty} of {total} cells have no course ([red]red[/]); {'*' if plain() else '[yellow]yellow[/]'}: "
        "courses exist but none builds "
        f"the required level ({', '.join(f'{k} {v}' for k, v in LEVEL_NAMES.items())}); req: the highest level a "
        "role requires",
        highlight=False,
    )


def print_priorities(result: TranslationPriorities, names: dict[str, str]) -> None:
    console.print(
        f"{result.learners} learner(s) prefer {result.language}; {result.learners_unserved} have a gap that no "
        f"course available in {result.language} builds yet",
        highlight=False,
    )
    shown = table(f"Courses to translate into {result.language} first")
    add_figure(shown, "#")
    add_identifier(shown, "course", [course.course_id for course in result.courses])
    for column in ("now in", "learners", "gaps", "alone"):
        add_figure(shown, column)
    add_name(shown, "name · competencies (learners)")
    for rank, course in enumerate(result.courses, start=1):
        competencies = "; ".join(f"{names.get(c, c)} ({n})" for c, n in course.competencies)
        shown.add_row(
            str(rank),
            course.course_id,
            ", ".join(course.languages),
            str(course.learners),
            str(course.gaps),
            str(course.learners_alone),
            f"{escape(course.name)}\n[dim]{escape(competencies)}[/]",
        )
    console.print(shown)
    console.print(
        "learners/gaps: served beyond the courses above (greedy order); alone: learners it would serve by itself"
    )
    if not result.courses:
        console.print(f"no course would close an unserved gap of a {result.language} learner", highlight=False)
    if result.missing_everywhere:
        console.print(
            "[yellow]no course in any language builds:[/] "
            + "; ".join(f"{names.get(c, c)} ({n} learner(s))" for c, n in result.missing_everywhere),
            highlight=False,
        )
