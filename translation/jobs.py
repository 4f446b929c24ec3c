"""Bulk translation of course fields over the catalog: batched, resumable, with a report.

Each batch of units is written in its own transaction and units are unique per (course, field, language),
so a job killed at any point loses at most the batch in flight, and running it again finishes the rest
without duplicating anything. A unit is (re)done when it is missing, still untranslated, or stale (its
English source changed since; the old text stays in its history)."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models import InvalidInputError, NotFoundError, UnitStatus, session_scope
from models.tables import CourseRow, TranslationJobRow, TranslationUnitRow
from translation.engines import Engine as MTEngine
from translation.glossary import Glossary
from translation.languages import SCRIPT_RANGES, TranslationLanguage, translation_language
from translation.memory import TranslationMemory
from translation.pipeline import Draft, TranslationPipeline
from translation.review import flag_dict, record
from translation.rounds import MTCall, RoundTranslator
from translation.store import load_memory

FIELDS = ("name", "description")


@dataclass
class JobReport:
    job_id: str
    languages: list[str]
    fields: list[str]
    resumed: bool = False
    units: int = 0  # units the job covers (course fields in English x languages)
    already_done: int = 0  # up to date before this run (earlier runs, or reviewed work)
    not_english: int = 0  # course fields skipped because their source is not English
    created: int = 0
    stale: int = 0  # units redone because the English source changed
    from_memory: int = 0
    machine_translated: int = 0
    fuzzy: int = 0
    queued: int = 0  # no memory match and no model: left untranslated for a human translator
    segments: int = 0
    memory_segments: int = 0
    mt_segments: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    engine: str | None = None

    @property
    def units_per_second(self) -> float:
        return (self.units - self.already_done - self.not_english) / self.seconds if self.seconds else 0.0

    @property
    def segments_per_second(self) -> float:
        return self.segments / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "units_per_second": round(self.units_per_second, 2),
            "segments_per_second": round(self.segments_per_second, 2),
        }


@dataclass(frozen=True)
class _Item:
    course_id: str
    field: str
    text: str
    source_hash: str


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def run_translation_job(
    engine: Engine,
    languages: Sequence[str],
    fields: Sequence[str] = ("name",),
    course_ids: Sequence[str] | None = None,
    *,
    mt: MTEngine | None = None,
    glossary: Glossary | None = None,
    batch_size: int = 32,
    fuzzy_min_score: float | None = None,
    native_digits: bool = False,
    progress: Callable[[int], None] | None = None,
    ahead: RoundTranslator | None = None,
) -> JobReport:
    """Translate `fields` of the English courses (all, or `course_ids`) into `languages`.

    With `ahead` (e.g. `translation.ray_mt.RayTranslator`) the machine translation of each round of batches is
    done by it before the round's batches are written; `mt` is then not used."""
    targets = [translation_language(code) for code in languages]
    _check_fields(fields)
    codes = [t.code for t in targets]
    params = {"languages": codes, "fields": list(fields), "courses": sorted(course_ids) if course_ids else None}
    report = JobReport(job_id="", languages=codes, fields=list(fields))
    report.engine = ahead.name if ahead else mt.name if mt else None
    started = time.perf_counter()
    with session_scope(engine) as session:
        report.job_id, report.resumed = _start_job(session, params)
        items, report.not_english = _items(session, fields, course_ids)
    report.not_english *= len(targets)
    report.units = len(items) * len(targets) + report.not_english
    pipelines = _Pipelines(engine, glossary or Glossary(), native_digits, fuzzy_min_score)
    batches = [
        (target, items[start : start + batch_size]) for target in targets for start in range(0, len(items), batch_size)
    ]
    for round_ in _rounds(batches, ahead.round_units if ahead else 1):
        round_mt = ahead.translate_calls(_planned_calls(engine, pipelines, round_)) if ahead else mt
        for target, batch in round_:
            pipeline = pipelines.get(target, round_mt)
            with session_scope(engine) as session:
                _translate_batch(session, pipeline, target, batch, report=report)
                report.seconds = time.perf_counter() - started
                _save_report(session, report, finished=False)
            if progress is not None:
                progress(len(batch))
        pipelines.keep_only(round_[-1][0])
    report.seconds = time.perf_counter() - started
    with session_scope(engine) as session:
        _save_report(session, report, finished=True)
    return report


_Batch = tuple[TranslationLanguage, list[_Item]]


class _Pipelines:
    """A pipeline per target language over its memory, loaded once when the job reaches the language."""

    def __init__(self, engine: Engine, glossary: Glossary, native_digits: bool, fuzzy_min_score: float | None) -> None:
        self.engine = engine
        self.glossary = glossary
        self.native_digits = native_digits
        self.fuzzy_min_score = fuzzy_min_score
        self.memories: dict[str, TranslationMemory] = {}

    def get(self, target: TranslationLanguage, mt: MTEngine | None) -> TranslationPipeline:
        if target.code not in self.memories:
            with session_scope(self.engine) as session:
                self.memories[target.code] = load_memory(session, target.code)
        memory = self.memories[target.code]
        return TranslationPipeline(
            target.code,
            memory,
            mt,
            self.glossary,
            native_digits=self.native_digits,
            fuzzy_min_score=self.fuzzy_min_score,
        )

    def keep_only(self, target: TranslationLanguage) -> None:
        """Batches come language by language: the languages before this one are finished."""
        self.memories = {code: memory for code, memory in self.memories.items() if code == target.code}


def _rounds(batches: list[_Batch], round_units: int) -> Iterator[list[_Batch]]:
    """Consecutive batches holding at least `round_units` units (the last round may hold fewer)."""
    round_: list[_Batch] = []
    units = 0
    for batch in batches:
        round_.append(batch)
        units += len(batch[1])
        if units >= round_units:
            yield round_
            round_, units = [], 0
    if round_:
        yield round_


def _planned_calls(engine: Engine, pipelines: _Pipelines, round_: list[_Batch]) -> list[MTCall]:
    """The MT calls writing this round will make: per batch, the segments of its units still to do that the
    memory cannot translate (nothing is written here)."""
    calls = []
    planned = [(target, batch, pipelines.get(target, None)) for target, batch in round_]
    with session_scope(engine) as session:
        for target, batch, pipeline in planned:
            todo, _ = _todo(session, target, batch)
            segments = pipeline.machine_input([item.text for item, _ in todo])
            if segments:
                calls.append(MTCall(pipeline.source.code, target.code, tuple(segments)))
    return calls


def _start_job(session: Session, params: dict[str, Any]) -> tuple[str, bool]:
    """Resume the latest unfinished job with the same parameters, or start a new one."""
    for job in session.scalars(
        select(TranslationJobRow).where(TranslationJobRow.status == "running").order_by(TranslationJobRow.started_at)
    ):
        if job.params == params:
            return job.id, True
    job = TranslationJobRow(id=uuid.uuid4().hex, params=params, status="running", report={})
    session.add(job)
    return job.id, False


def _check_fields(fields: Sequence[str]) -> None:
    unknown = [name for name in fields if name not in FIELDS]
    if unknown or not fields:
        raise InvalidInputError(f"unknown field(s) {', '.join(unknown)}; translatable fields: {', '.join(FIELDS)}")


def _items(session: Session, fields: Sequence[str], course_ids: Sequence[str] | None) -> tuple[list[_Item], int]:
    _check_fields(fields)
    query = select(CourseRow.identifier, CourseRow.name, CourseRow.description).order_by(CourseRow.identifier)
    if course_ids:
        query = query.where(CourseRow.identifier.in_(course_ids))
    rows = session.execute(query).all()
    missing = sorted(set(course_ids or []) - {row.identifier for row in rows})
    if missing:
        raise NotFoundError("course", ", ".join(missing))
    items: list[_Item] = []
    not_english = 0
    for row in rows:
        for name in fields:
            text = getattr(row, name) or ""
            if not text.strip():
                continue
            if not is_english(text):
                not_english += 1
                continue
            items.append(_Item(row.identifier, name, text, source_hash(text)))
    return items, not_english


def count_units(session: Session, fields: Sequence[str], course_ids: Sequence[str] | None = None) -> int:
    """How many English course fields a job over these courses covers (per language)."""
    return len(_items(session, fields, course_ids)[0])


def is_english(text: str) -> bool:
    """The catalog holds courses written in Indian languages too; only English sources are translated."""
    letters = [ch for ch in text if ch.isalpha()]
    latin = SCRIPT_RANGES["Latn"]
    return bool(letters) and sum(any(lo <= ord(ch) <= hi for lo, hi in latin) for ch in letters) >= 0.6 * len(letters)


def _translate_batch(
    session: Session,
    pipeline: TranslationPipeline,
    target: TranslationLanguage,
    batch: list[_Item],
    *,
    report: JobReport,
) -> None:
    todo, up_to_date = _todo(session, target, batch)
    report.already_done += up_to_date
    drafts = pipeline.translate([item.text for item, _ in todo])
    for (item, row), draft in zip(todo, drafts, strict=True):
        _apply(session, target, item, row, draft=draft, report=report)


def _todo(
    session: Session, target: TranslationLanguage, batch: list[_Item]
) -> tuple[list[tuple[_Item, TranslationUnitRow | None]], int]:
    """The batch's units that need (re)doing, with their rows where they exist, and how many are up to date."""
    existing = {
        (row.course_id, row.field): row
        for row in session.scalars(
            select(TranslationUnitRow).where(
                TranslationUnitRow.language == target.code,
                TranslationUnitRow.course_id.in_({item.course_id for item in batch}),
            )
        )
    }
    todo = []
    done = 0
    for item in batch:
        row = existing.get((item.course_id, item.field))
        if row is not None and row.source_hash == item.source_hash and row.status != UnitStatus.UNTRANSLATED:
            done += 1
        else:
            todo.append((item, row))
    return todo, done


def _apply(
    session: Session,
    target: TranslationLanguage,
    item: _Item,
    row: TranslationUnitRow | None,
    *,
    draft: Draft,
    report: JobReport,
) -> None:
    if row is None:
        row = TranslationUnitRow(
            course_id=item.course_id,
            field=item.field,
            language=target.code,
            source_text=item.text,
            source_hash=item.source_hash,
            status=UnitStatus.UNTRANSLATED,
            flags=[],
            history=[],
        )
        session.add(row)
        report.created += 1
        record(row, "created")
    elif row.source_hash != item.source_hash:
        # Keep what was there (approved text included) in the history before starting over.
        record(row, "source_changed", note="the English source changed; the unit is redone")
        row.source_text, row.source_hash = item.text, item.source_hash
        row.status, row.draft, row.edited, row.flags = UnitStatus.UNTRANSLATED, None, None, []
        row.engine, row.memory_score, row.reviewer, row.note = None, None, None, None
        report.stale += 1
    report.segments += draft.segments
    report.memory_segments += draft.memory_segments
    report.mt_segments += draft.mt_segments
    if draft.text is None:
        report.queued += 1
        return
    row.status, row.draft, row.edited = UnitStatus.MACHINE_TRANSLATED, draft.text, None
    row.engine, row.memory_score = draft.engine, draft.memory_score
    row.flags = [flag_dict(flag) for flag in draft.flags]
    record(row, "machine_translated", actor=draft.engine)
    report.flags = dict(Counter(report.flags) + Counter(flag.check for flag in draft.flags))
    if draft.engine == "memory":
        report.from_memory += 1
    elif draft.engine == "memory-fuzzy":
        report.fuzzy += 1
    else:
        report.machine_translated += 1


def _save_report(session: Session, report: JobReport, finished: bool) -> None:
    job = session.get(TranslationJobRow, report.job_id)
    if job is None:
        return
    job.report = report.as_dict()
    if finished:
        job.status, job.finished_at = "finished", datetime.now(UTC)
