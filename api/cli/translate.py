"""Translation commands: bulk `translate`, `translations export|import|list|approve-clean`, `models fetch`."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from api.cli.context import console, engine, errors, print_json, progress_bar, reports_errors, settings
from api.cli.ray_engine import ActorsOption, BatchEngine, EngineOption, ray_translator
from models import UnitStatus, session_scope
from translation import (
    FIELDS,
    JobReport,
    bulk_approve_clean,
    catalog_glossary,
    export_memory,
    export_units,
    import_memory,
    import_units,
    list_units,
    load_engine,
    run_translation_job,
    seed_memory,
    translation_language,
    undo_batch,
)
from translation.config import HOW_TO_CONFIGURE, EngineKind
from translation.fetch import fetch_model
from translation.jobs import count_units
from translation.languages import parse_languages
from translation.store import SEED_FILES

translations_app = typer.Typer(help="Review translations; exchange them with translation tools.", no_args_is_help=True)
models_app = typer.Typer(help="Machine translation models.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Format = Literal["xliff", "csv", "tmx"]
FORMATS: tuple[Format, ...] = ("xliff", "csv", "tmx")


class Backend(StrEnum):
    auto = "auto"
    transformers = "transformers"
    ctranslate2 = "ctranslate2"


@reports_errors
def translate(
    langs: Annotated[str, typer.Option("--langs", help="Target languages: hi,ta,bn (igot: all portal ones).")],
    fields: Annotated[str, typer.Option("--fields", help=f"Course fields: {','.join(FIELDS)}.")] = "name",
    courses: Annotated[
        str | None,
        typer.Option("--courses", help="Only these course identifiers, comma-separated (default: every course)."),
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Local model directory (default: KARMAYOGI_MT_MODEL).")
    ] = None,
    *,
    backend: Annotated[
        Backend | None,
        typer.Option(
            "--backend", help="MT backend (default: KARMAYOGI_MT_BACKEND, else auto: CTranslate2 if model.bin)."
        ),
    ] = None,
    batch_engine: EngineOption = BatchEngine.local,
    actors: ActorsOption = 2,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Units written per transaction.")] = 32,
    fuzzy: Annotated[
        float | None,
        typer.Option(
            "--fuzzy",
            min=50,
            max=100,
            help="Accept fuzzy memory matches at this score or more (default: exact matches only).",
        ),
    ] = None,
    native_digits: Annotated[bool, typer.Option("--native-digits", help="Use the script's own digits.")] = False,
    seed: Annotated[bool, typer.Option("--seed/--no-seed", help="Load the shipped reviewed pairs first.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Translate course fields of the catalog: memory first, then the configured model; the rest is queued.
    Stopped or killed midway? Run the same command again: it resumes without duplicating anything."""
    targets = [language.code for language in parse_languages(langs)]
    field_names = [name.strip() for name in fields.split(",") if name.strip()]
    course_ids = [c.strip() for c in courses.split(",") if c.strip()] if courses else None
    mt_settings = settings().mt
    model_dir = model or mt_settings.model
    kind: EngineKind = backend.value if backend else mt_settings.backend
    mt, ahead = None, None
    if batch_engine is BatchEngine.ray:
        if model_dir is None:
            raise typer.BadParameter(f"Ray runs the model: {HOW_TO_CONFIGURE}", param_hint="--engine ray")
        ahead = ray_translator(model_dir, kind, mt_settings, actors)
    elif model_dir:
        mt = load_engine(model_dir, kind, mt_settings.device, mt_settings.beams, batch_size=mt_settings.batch_size)
    db = engine()
    with session_scope(db) as session:
        if seed:
            for code in targets:
                if code in SEED_FILES:
                    seed_memory(session, SEED_FILES[code])
        glossary = catalog_glossary(session)
        total = count_units(session, field_names, course_ids) * len(targets)
    with progress_bar("translating", total, unit="units") as advance:
        report = run_translation_job(
            db,
            targets,
            field_names,
            course_ids,
            mt=mt,
            glossary=glossary,
            batch_size=batch_size,
            fuzzy_min_score=fuzzy,
            native_digits=native_digits,
            progress=advance,
            ahead=ahead,
        )
    if as_json:
        print_json(report.as_dict())
    else:
        print_report(report)
    if mt is None and ahead is None and report.queued:
        errors.print(f"[yellow]note:[/] {report.queued} unit(s) queued for translators; {HOW_TO_CONFIGURE}")


def print_report(report: JobReport) -> None:
    """Shared by `translate` and the demo."""
    title = f"Translation job {report.job_id[:8]}{' (resumed)' if report.resumed else ''}"
    table = Table(title=title, show_header=False)
    for label, value in [
        ("languages / fields", f"{', '.join(report.languages)} / {', '.join(report.fields)}"),
        ("engine", report.engine or "memory only (no model configured)"),
        ("units covered", report.units),
        ("  already up to date", report.already_done),
        ("  source not in English (skipped)", report.not_english),
        ("  new units", report.created),
        ("  redone: English source changed", report.stale),
        ("from memory (exact)", report.from_memory),
        ("from memory (fuzzy)", report.fuzzy),
        ("machine-translated", report.machine_translated),
        ("queued for translators", report.queued),
        ("segments (memory / MT)", f"{report.segments} ({report.memory_segments} / {report.mt_segments})"),
        ("QA flags", ", ".join(f"{k} {v}" for k, v in sorted(report.flags.items())) or "none"),
        ("time", f"{report.seconds:.1f} s, {report.segments_per_second:.1f} segments/s"),
    ]:
        table.add_row(label, str(value))
    console.print(table)


def _format(file: Path, fmt: str | None) -> Format:
    chosen = (
        fmt or {".xlf": "xliff", ".xliff": "xliff", ".csv": "csv", ".tmx": "tmx"}.get(file.suffix.lower(), "")
    ).lower()
    for known in FORMATS:
        if chosen == known:
            return known
    raise typer.BadParameter(
        "give --format xliff, csv or tmx (or use a .xlf/.csv/.tmx file name)", param_hint="--format"
    )


@translations_app.command("export")
@reports_errors
def translations_export(
    lang: Annotated[str, typer.Option("--lang", help="Target language.")],
    out: Annotated[Path, typer.Option("--out", help="File to write (.xlf, .csv or .tmx).")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="xliff | csv | tmx (the memory) (default: by the suffix of --out).")
    ] = None,
    status: Annotated[list[UnitStatus] | None, typer.Option("--status", help="Only this status (repeatable).")] = None,
    *,
    as_json: JsonOption = False,
) -> None:
    """Write units (XLIFF, CSV) or the translation memory (TMX) for professional translation tools."""
    chosen = _format(out, fmt)
    code = translation_language(lang).code
    with session_scope(engine()) as session:
        data = export_memory(session, code) if chosen == "tmx" else export_units(session, code, chosen, status)
    out.write_bytes(data)
    if as_json:
        print_json({"out": str(out), "format": chosen, "bytes": len(data)})
        return
    console.print(f"wrote {out} ({chosen}, {len(data)} bytes)")


@translations_app.command("import")
@reports_errors
def translations_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who did the work (recorded in the history).")],
    fmt: Annotated[str | None, typer.Option("--format", help="xliff | csv | tmx (default: by suffix).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Read translators' work back: edited targets go to review, approved ones are approved, TMX feeds the memory.
    The file is checked whole first; one bad unit rejects it and nothing changes."""
    chosen = _format(file, fmt)
    with session_scope(engine()) as session:
        if chosen == "tmx":
            report = import_memory(session, file.read_bytes(), str(file))
        else:
            report = import_units(
                session, file.read_bytes(), chosen, str(file), reviewer=reviewer, glossary=catalog_glossary(session)
            )
    if as_json:
        print_json(report)
        return
    console.print(
        f"{file}: {report.edited} edited, {report.approved} approved, {report.unchanged} unchanged, "
        f"{report.memory_entries} memory entries"
    )


@translations_app.command("list")
@reports_errors
def translations_list(
    lang: Annotated[str | None, typer.Option("--lang", help="Only this target language (default: all).")] = None,
    status: Annotated[UnitStatus | None, typer.Option("--status", help="Only this status (default: all).")] = None,
    flag: Annotated[
        str | None, typer.Option("--flag", help="Only units with this QA check's flag (default: flagged or not).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many units to show.")] = 20,
    *,
    as_json: JsonOption = False,
) -> None:
    """Units by language, status and QA flag."""
    code = translation_language(lang).code if lang else None
    with session_scope(engine()) as session:
        units = list_units(session, code, status, flag, limit=limit)
    if as_json:
        print_json([asdict(unit) | {"updated_at": unit.updated_at.isoformat(), "text": unit.text} for unit in units])
        return
    table = Table("id", "course", "field", "lang", "status", "text", "flags")
    for unit in units:
        table.add_row(
            str(unit.id),
            unit.course_id,
            unit.field,
            unit.language,
            unit.status,
            (unit.text or "")[:60],
            ", ".join(f["check"] for f in unit.flags),
        )
    console.print(table)


@translations_app.command("approve-clean")
@reports_errors
def translations_approve_clean(
    lang: Annotated[str, typer.Option("--lang", help="Target language.")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who approves (kept in each unit's history).")],
    as_json: JsonOption = False,
) -> None:
    """Approve, as one batch that can be undone, every machine-translated unit of a language that has no error
    or warning flag."""
    code = translation_language(lang).code
    with session_scope(engine()) as session:
        report = bulk_approve_clean(session, code, reviewer)
    if as_json:
        print_json({"language": code, "approved": report.applied, "batch": report.batch_id})
        return
    console.print(f"approved {report.applied} clean unit(s) in {code}")
    if report.batch_id:
        console.print(f"batch {report.batch_id}; undo it with: karmayogi translations undo {report.batch_id}")


@translations_app.command("undo")
@reports_errors
def translations_undo(
    batch: Annotated[str, typer.Argument(help="The batch id that a bulk action printed.")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who undoes it (kept in each unit's history).")],
    as_json: JsonOption = False,
) -> None:
    """Undo a bulk approval or rejection: its units go back to where they were, unless changed since."""
    with session_scope(engine()) as session:
        report = undo_batch(session, batch, reviewer)
    if as_json:
        print_json({"batch": batch, "restored": report.restored, "changed_since": report.changed_since})
        return
    console.print(f"restored {report.restored} unit(s); {report.changed_since} changed since, left as they are")


@models_app.command("fetch")
@reports_errors
def models_fetch(
    name: Annotated[str, typer.Argument(help="A short name (indictrans2-en-indic-dist-200M) or owner/name.")],
    to: Annotated[Path, typer.Option("--to", help="Folder to download into.")],
    ct2: Annotated[bool, typer.Option("--ctranslate2", help="Also convert to CTranslate2 int8 in TO/ct2.")] = False,
) -> None:
    """Download a translation model (needs a network); then set KARMAYOGI_MT_MODEL to the folder."""
    path = fetch_model(name, to, ctranslate2=ct2)
    console.print(f"model ready in {path}: export KARMAYOGI_MT_MODEL={path}")
