"""Recommendation commands: `recommend`, `gaps`, `path` and `recommend-batch`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.cli.context import console, engine, errors, print_json, progress_bar, reports_errors, settings
from api.cli.ray_engine import ActorsOption, BatchEngine, EngineOption, run_batch_ray
from api.cli.tables import add_figure, add_identifier, add_name, table
from api.localize import displays, reasons
from models import LEVEL_NAMES, Learner, get_learner, iter_learners, normalise_language, session_scope
from models.display import CourseDisplay
from recommender.batch import read_learners_jsonl, run_batch
from recommender.batch_ray import ROUND_CHUNKS
from recommender.explain import Explanation
from recommender.gaps import GapAnalysis, ProfileError, inline_learner
from recommender.inputs import CatalogInputs
from recommender.paths import LearningPath, learning_path
from recommender.ranking import RankingConfig
from recommender.recommend import Recommendations, Recommender
from recommender.stored import load_recommender
from search import retrieval_config
from translation import catalog_glossary

IMPORTANCE = {1: "useful", 2: "important", 3: "critical"}

LearnerOption = Annotated[
    str | None, typer.Option("--learner", help="A learner in the database (default: an inline profile instead).")
]
RoleOption = Annotated[list[str] | None, typer.Option("--role", help="Inline profile: a role id (repeatable).")]
LevelOption = Annotated[
    list[str] | None, typer.Option("--level", help="Inline profile: COMPETENCY_ID=LEVEL, level 1-5 (repeatable).")
]
LanguageOption = Annotated[
    list[str] | None,
    typer.Option(
        "--language",
        help="Preferred language, first is best (repeatable): an inline profile's; for --learner, read before theirs.",
    ),
]
CompletedOption = Annotated[list[str] | None, typer.Option("--completed", help="Inline profile: a completed course.")]
SemanticOption = Annotated[
    bool, typer.Option("--semantic/--no-semantic", help="Also match competency texts against course texts.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def build_recommender(semantic: bool = True, max_minutes: int | None = None) -> Recommender:
    """The recommender over the stored catalog, exactly as the HTTP service builds it (`load_recommender`): text
    evidence from the course index under KARMAYOGI_HOME, which is built first when it is missing or stale."""
    loaded = load_recommender(
        engine(),
        settings().home,
        search=retrieval_config(settings().search) if semantic else None,
        ranking=RankingConfig(max_duration_minutes=max_minutes),
        notify=lambda message: errors.print(f"note: {message}", highlight=False),
    )
    return loaded.recommender


def resolve_learner(
    session: Session,
    inputs: CatalogInputs,
    learner_id: str | None,
    roles: Sequence[str] | None,
    *,
    levels: Sequence[str] | None,
    languages: Sequence[str] | None,
    completed: Sequence[str] | None,
) -> Learner:
    if learner_id and (roles or levels or completed):
        raise ProfileError("give either --learner or an inline profile (--role, --level, --completed), not both")
    if learner_id:
        stored = get_learner(session, learner_id)
        if not languages:
            return stored
        first = list(dict.fromkeys(normalise_language(code) for code in languages))
        rest = [code for code in stored.preferred_languages if code not in first]
        return stored.model_copy(update={"preferred_languages": [*first, *rest]})
    if not roles:
        raise ProfileError("give --learner ID, or an inline profile with at least one --role")
    return inline_learner(
        roles,
        parse_levels(levels or []),
        inputs.competencies,
        preferred_languages=languages or ["en"],
        completed=completed or [],
    )


def parse_levels(items: Sequence[str]) -> dict[str, int]:
    levels: dict[str, int] = {}
    for item in items:
        competency_id, separator, level = item.partition("=")
        if not separator or not level.strip().isdigit():
            raise ProfileError(f"--level {item!r}: expected COMPETENCY_ID=LEVEL with LEVEL 1-5, e.g. FUN-02-01=2")
        levels[competency_id.strip()] = int(level)
    return levels


@reports_errors
def recommend(
    learner: LearnerOption = None,
    role: RoleOption = None,
    level: LevelOption = None,
    language: LanguageOption = None,
    *,
    completed: CompletedOption = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="How many courses.")] = 10,
    max_minutes: Annotated[
        int | None,
        typer.Option(
            "--max-minutes", min=1, help="Leave out longer courses (default: no limit; unknown durations stay)."
        ),
    ] = None,
    semantic: SemanticOption = True,
    as_json: JsonOption = False,
) -> None:
    """Ranked courses that close a learner's competency gaps, each with its reasons."""
    recommender = build_recommender(semantic, max_minutes)
    with session_scope(engine()) as session:
        person = resolve_learner(
            session, recommender.inputs, learner, role, levels=level, languages=language, completed=completed
        )
    result = recommender.recommend(person, k)
    shown, reason = localize(engine(), recommender, person, [item.course_id for item in result.items])
    if as_json:
        payload = asdict(result)
        for out, item in zip(payload["items"], result.items, strict=True):
            out["display"] = shown[item.course_id].model_dump()
            out["reason"] = reason(item.explanation)
        print_json(payload)
        return
    print_recommendations(recommender, person, result, shown, reason=reason)


@reports_errors
def gaps(
    learner: LearnerOption = None,
    role: RoleOption = None,
    level: LevelOption = None,
    completed: CompletedOption = None,
    *,
    as_json: JsonOption = False,
) -> None:
    """A learner's competency gaps against their role(s), highest priority first."""
    recommender = build_recommender(semantic=False)
    with session_scope(engine()) as session:
        person = resolve_learner(
            session, recommender.inputs, learner, role, levels=level, languages=None, completed=completed
        )
    analysis = recommender.analyse(person)
    if as_json:
        print_json(asdict(analysis))
        return
    print_gaps(analysis)


@reports_errors
def path(
    learner: LearnerOption = None,
    role: RoleOption = None,
    level: LevelOption = None,
    language: LanguageOption = None,
    *,
    completed: CompletedOption = None,
    semantic: SemanticOption = True,
    as_json: JsonOption = False,
) -> None:
    """An ordered plan of courses that closes the gaps level by level, with its total duration."""
    recommender = build_recommender(semantic)
    with session_scope(engine()) as session:
        person = resolve_learner(
            session, recommender.inputs, learner, role, levels=level, languages=language, completed=completed
        )
    plan = learning_path(recommender, person)
    shown, _ = localize(engine(), recommender, person, [step.course_id for step in plan.steps])
    if as_json:
        payload = asdict(plan)
        for out, step in zip(payload["steps"], plan.steps, strict=True):
            out["display"] = shown[step.course_id].model_dump()
        print_json(payload)
        return
    print_path(plan, shown)


@reports_errors
def recommend_batch(
    out: Annotated[Path, typer.Option("--out", help="A .jsonl file or a .parquet folder.")],
    learners: Annotated[
        Path | None,
        typer.Option("--learners", exists=True, dir_okay=False, help="Learners JSONL (default: the database)."),
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Courses per learner.")] = 10,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Learners scored together.")] = 2048,
    *,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run.")] = False,
    semantic: SemanticOption = True,
    batch_engine: EngineOption = BatchEngine.local,
    actors: ActorsOption = 2,
    round_chunks: Annotated[
        int,
        typer.Option(
            "--round-chunks",
            min=1,
            help="With --engine ray: chunks the driver reads and sends to Ray at a time (its memory is about one "
            "round).",
        ),
    ] = ROUND_CHUNKS,
    as_json: JsonOption = False,
) -> None:
    """Top-k for every learner, scored in vectorised chunks, written as JSONL or Parquet (resumable)."""
    db = engine()
    recommender = build_recommender(semantic)
    recommender.coverage_.ensure_all()
    total = _count_learners(db, learners)
    source = partial(read_learners_jsonl, learners) if learners else partial(_database_learners, db)
    with progress_bar("recommending", total, unit="learners") as advance:
        if batch_engine is BatchEngine.ray:
            report = run_batch_ray(
                recommender,
                source,
                out,
                k=k,
                chunk_size=chunk_size,
                resume=resume,
                progress=advance,
                actors=actors,
                round_chunks=round_chunks,
            )
        else:
            report = run_batch(recommender, source, out, k=k, chunk_size=chunk_size, resume=resume, progress=advance)
    rate = report.learners / report.seconds if report.seconds else 0.0
    if as_json:
        print_json(
            {
                "out": str(out),
                "learners": report.learners,
                "seconds": round(report.seconds, 3),
                "skipped": report.skipped,
            }
        )
        return
    console.print(
        f"{out}: {report.learners} learners in {report.seconds:.1f}s ({rate:,.0f}/s)"
        + (f", {report.skipped} done by an earlier run" if report.skipped else "")
    )


def _database_learners(db: Engine, skip: int) -> Iterator[Learner]:
    with session_scope(db) as session:
        yield from islice(iter_learners(session), skip, None)


def _count_learners(db: Engine, learners: Path | None) -> int:
    if learners is None:
        from models import catalog_stats

        with session_scope(db) as session:
            return catalog_stats(session).learners
    with learners.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


Reason = Callable[[Explanation], str]


def localize(
    db: Engine, recommender: Recommender, learner: Learner, course_ids: Sequence[str]
) -> tuple[dict[str, CourseDisplay], Reason]:
    """As the HTTP service does: each course's display for the learner's languages (one query) and a writer of
    reasons in the first of them that has a message catalog, with the glossary's competency names."""
    courses = recommender.courses_by_id_
    with session_scope(db) as session:
        shown = displays(session, [courses[c] for c in course_ids], learner.preferred_languages)
        reason = reasons(learner.preferred_languages, lambda: catalog_glossary(session))
    return shown, reason


def print_gaps(analysis: GapAnalysis) -> None:
    shown = table(f"Competency gaps — {analysis.learner_id} ({', '.join(analysis.roles) or 'no role'})")
    add_identifier(shown, "id", [gap.competency_id for gap in analysis.gaps])
    add_name(shown, "competency", min_width=10)
    rows = [
        [
            f"{gap.current_level} {LEVEL_NAMES.get(gap.current_level, 'none')}",
            f"{gap.required_level} {LEVEL_NAMES[gap.required_level]}",
            IMPORTANCE[gap.importance],
            f"{gap.priority:.2f}",
            gap.level_source,
        ]
        for gap in analysis.gaps
    ]
    for position, column in enumerate(("current", "required", "importance", "priority", "source")):
        add_identifier(shown, column, [row[position] for row in rows])  # short words: never broken
    for gap, row in zip(analysis.gaps, rows, strict=True):
        shown.add_row(gap.competency_id, escape(gap.name), *row)
    console.print(shown)
    if analysis.met:
        console.print(f"already at the required level: {', '.join(analysis.met)}", highlight=False)
    for note in analysis.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


def print_recommendations(
    recommender: Recommender,
    learner: Learner,
    result: Recommendations,
    shown: dict[str, CourseDisplay] | None = None,
    *,
    reason: Reason | None = None,
) -> None:
    """Each course under its display name (the original name below it when that differs), with its reason in the
    learner's language; without `shown` and `reason`, the original names and English reasons."""
    roles = [recommender.inputs.roles[r] for r in learner.roles if r in recommender.inputs.roles]
    who = "; ".join(f"{r.designation}, {r.department}" for r in roles) or (learner.department or "no role")
    console.rule(f"[bold]{learner.name or learner.id}[/] — {who}")
    if result.mode == "gaps" and result.analysis.gaps:
        console.print(
            "gaps: "
            + ", ".join(
                f"{g.name} {g.current_level}→{g.required_level} ({IMPORTANCE[g.importance]})"
                for g in result.analysis.gaps
            ),
            highlight=False,
        )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    for rank, item in enumerate(result.items, start=1):
        minutes = f"{item.duration_seconds // 60} min" if item.duration_seconds is not None else "duration unknown"
        display = shown.get(item.course_id) if shown else None
        name = display.name if display else item.name
        console.print(
            f"[bold]{rank:>2}. {escape(name)}[/]  ({item.course_id}) · score {item.score:.3f} · {minutes}",
            highlight=False,
        )
        if name != item.name:
            console.print(f"     [dim]{escape(item.name)}[/]", highlight=False)
        text = reason(item.explanation) if reason else item.explanation.summary()
        console.print(f"     {escape(text)}", highlight=False)
    if result.reason:
        console.print(f"[yellow]{result.reason}[/]", highlight=False)


def print_path(plan: LearningPath, shown: dict[str, CourseDisplay] | None = None) -> None:
    steps = table(f"Learning path — {plan.learner_id}")
    add_figure(steps, "stage")
    add_identifier(steps, "course", [step.course_id for step in plan.steps])
    add_figure(steps, "minutes")
    add_name(steps, "name · closes")
    for step in plan.steps:
        closes = ", ".join(f"{name} → {level}" for _, name, level in step.closes)
        steps.add_row(
            str(step.stage),
            step.course_id,
            str(step.duration_seconds // 60) if step.duration_seconds is not None else "?",
            f"{escape(shown[step.course_id].name if shown else step.name)}\n[dim]{escape(closes)}[/]",
        )
    console.print(steps)
    hours = plan.total_duration_seconds / 3600
    unknown = f" (+{plan.unknown_durations} course(s) of unknown duration)" if plan.unknown_durations else ""
    console.print(f"total: {len(plan.steps)} course(s), {hours:.1f} h{unknown}")
    if plan.uncovered:
        missing = ", ".join(f"{c} level {level}" for c, level in plan.uncovered)
        console.print(f"[yellow]no available course builds:[/] {missing}", highlight=False)
    for note in plan.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


def show_demo_recommendations(
    db: Engine, learner_ids: Sequence[str] | None = None, k: int = 5, semantic: bool = True
) -> None:
    """For `make demo`: recommendations with reasons for three sample learners (or the ones named): one with
    attested levels, one without any level, one without a role."""
    loaded = load_recommender(db, settings().home, search=retrieval_config(settings().search) if semantic else None)
    recommender = loaded.recommender
    with session_scope(db) as session:
        chosen = list(learner_ids or _demo_learners(session))
        people = [get_learner(session, learner_id) for learner_id in chosen]
    for person in people:
        result = recommender.recommend(person, k)
        shown, reason = localize(db, recommender, person, [item.course_id for item in result.items])
        print_recommendations(recommender, person, result, shown, reason=reason)


def _demo_learners(session: Session) -> list[str]:
    """Three learners that show the three cases: with levels, without levels, without a role."""
    with_levels = without_levels = without_role = None
    for learner in islice(iter_learners(session), 500):
        if learner.roles and learner.competencies and with_levels is None:
            with_levels = learner.id
        elif learner.roles and not learner.competencies and not learner.completed and without_levels is None:
            without_levels = learner.id
        elif not learner.roles and without_role is None:
            without_role = learner.id
    return [i for i in (with_levels, without_levels, without_role) if i is not None]
