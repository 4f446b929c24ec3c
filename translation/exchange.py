"""Round trips with professional tools: units out and in as XLIFF or CSV, the memory as TMX.

An import is checked whole before anything is written; one bad unit rejects the file, naming the line."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session
from translate.storage import tmx, xliff

from models import Problem, UnitStatus
from models.problems import IngestRejectedError
from models.records import CsvColumns, RawRecord, iter_csv_records
from models.tables import TranslationMemoryRow, TranslationUnitRow
from translation.checks import run_checks
from translation.glossary import Glossary
from translation.languages import translation_language
from translation.review import approve_unit, edit_unit
from translation.store import remember

UnitFormat = Literal["xliff", "csv"]
CSV_COLUMNS = ("key", "language", "status", "source", "target", "flags")
CSV_REQUIRED = ("key", "language", "source", "target")
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV injection list): the export
# writes such a cell after an apostrophe, and so also a cell that starts with an apostrophe followed by one of
# them or by another apostrophe, so that the import can take exactly that one apostrophe off again.
FORMULA_STARTS = frozenset("=+-@\t\r")
_ESCAPED_STARTS = FORMULA_STARTS | {"'"}


def neutralise_cell(text: str) -> str:
    """The cell as the export writes it: prefixed with an apostrophe where a spreadsheet would see a formula."""
    if text[:1] in FORMULA_STARTS or (text[:1] == "'" and text[1:2] in _ESCAPED_STARTS):
        return "'" + text
    return text


def restore_cell(text: str) -> str:
    """What `neutralise_cell` was given: its one added apostrophe taken off, and nothing else changed."""
    return text[1:] if text[:1] == "'" and text[1:2] in _ESCAPED_STARTS else text


_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class IncomingUnit:
    line: int
    key: str  # course identifier|field
    source: str
    target: str
    approved: bool


@dataclass
class ImportReport:
    file: str
    edited: int = 0
    approved: int = 0
    unchanged: int = 0
    memory_entries: int = 0


def unit_key(row: TranslationUnitRow) -> str:
    return f"{row.course_id}|{row.field}"


def _units(session: Session, language: str, statuses: Sequence[UnitStatus] | None) -> list[TranslationUnitRow]:
    query = select(TranslationUnitRow).where(TranslationUnitRow.language == language)
    if statuses:
        query = query.where(TranslationUnitRow.status.in_(statuses))
    return list(session.scalars(query.order_by(TranslationUnitRow.course_id, TranslationUnitRow.field)))


def _text(row: TranslationUnitRow) -> str | None:
    return row.edited if row.edited is not None else row.draft


def export_units(
    session: Session, language: str, fmt: UnitFormat, statuses: Sequence[UnitStatus] | None = None
) -> bytes:
    """The units of one target language (optionally only some statuses) as XLIFF 1.1 or CSV."""
    language = translation_language(language).code
    rows = _units(session, language, statuses)
    if fmt == "csv":
        return _export_csv(rows)
    store: xliff.xlifffile[xliff.Xliff1Unit] = xliff.xlifffile(sourcelanguage="en", targetlanguage=language)
    for row in rows:
        unit = store.addsourceunit(row.source_text)
        unit.setid(unit_key(row))
        text = _text(row)
        if text is not None:
            unit.target = text
            unit.markapproved(row.status == UnitStatus.APPROVED)
            unit.markfuzzy(row.status != UnitStatus.APPROVED)
        for flag in row.flags or []:
            unit.addnote(f"{flag['severity']} {flag['check']}: {flag['message']}", origin="developer")
    return bytes(store)


def _export_csv(rows: list[TranslationUnitRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        flags = "; ".join(f"{f['check']}: {f['message']}" for f in row.flags or [])
        cells = [unit_key(row), row.language, row.status, row.source_text, _text(row) or "", flags]
        writer.writerow([neutralise_cell(str(cell)) for cell in cells])
    return buffer.getvalue().encode("utf-8")


def import_units(
    session: Session, data: bytes, fmt: UnitFormat, file: str, *, reviewer: str, glossary: Glossary | None = None
) -> ImportReport:
    """Apply translators' work: changed targets go to review, targets marked approved are approved.
    Nothing is written unless every unit of the file is valid."""
    language, incoming = _parse_csv(data, file) if fmt == "csv" else _parse_xliff(data, file)
    rows = {unit_key(row): row for row in _units(session, language, None)}
    problems: list[Problem] = []
    for unit in incoming:
        row = rows.get(unit.key)
        if row is None:
            problems.append(Problem(file, unit.line, "id", f"no {language} unit {unit.key!r} in the database"))
        elif " ".join(unit.source.split()) != " ".join(row.source_text.split()):
            problems.append(Problem(file, unit.line, "source", "the English source changed since the export"))
        elif unit.approved and not unit.target.strip():
            problems.append(Problem(file, unit.line, "target", "marked approved but empty"))
        elif unit.approved and row.status != UnitStatus.APPROVED and (errors := _errors(row, unit, glossary)):
            reason = f"marked approved, but error flag(s) block approval: {errors}; fix it or leave it unapproved"
            problems.append(Problem(file, unit.line, "target", reason))
    keys = [unit.key for unit in incoming]
    problems += [Problem(file, u.line, "id", f"{u.key!r} appears twice") for u in incoming if keys.count(u.key) > 1]
    if problems:
        raise IngestRejectedError(sorted(problems, key=lambda p: p.line))
    report = ImportReport(file)
    for unit in incoming:
        row = rows[unit.key]
        changed = bool(unit.target.strip()) and unit.target != _text(row)
        if changed:
            edit_unit(session, row.id, unit.target, reviewer, glossary=glossary)
            report.edited += 1
        if unit.approved and row.status != UnitStatus.APPROVED:
            approve_unit(session, row.id, reviewer)
            report.approved += 1
        elif not changed:
            report.unchanged += 1
    return report


def _errors(row: TranslationUnitRow, unit: IncomingUnit, glossary: Glossary | None) -> str:
    """The error flags that the text the unit would be approved with has ('' when none): the review rule, as the
    review UI and API apply it (an override needs a reviewer's reason, which a file cannot give)."""
    text = unit.target if unit.target.strip() else _text(row) or ""
    flags = run_checks(row.source_text, text, row.language, glossary or Glossary())
    return "; ".join(f"{flag.check}: {flag.message}" for flag in flags if flag.severity == "error")


def _parse_xliff(data: bytes, file: str) -> tuple[str, list[IncomingUnit]]:
    try:
        store = xliff.xlifffile.parsestring(data)
    except etree.XMLSyntaxError as error:
        raise IngestRejectedError([Problem(file, error.lineno or 1, "xml", error.msg)]) from None
    except Exception as error:  # translate-toolkit raises several types for a file that is not XLIFF
        raise IngestRejectedError([Problem(file, 1, "xml", f"not an XLIFF file: {error}")]) from None
    language = _language(store.gettargetlanguage(), file, "target-language")
    incoming = []
    for unit in store.unit_iter():
        element = unit.xmlelement
        line, key = element.sourceline or 1, element.get("id") or ""
        incoming.append(IncomingUnit(line, key, unit.source or "", unit.target or "", unit.isapproved()))
    return language, incoming


def _parse_csv(data: bytes, file: str) -> tuple[str, list[IncomingUnit]]:
    read = list(iter_csv_records(data, file, CsvColumns({c: (c,) for c in CSV_COLUMNS}, CSV_REQUIRED)))
    problems = [item for item in read if isinstance(item, Problem)]
    if problems:
        raise IngestRejectedError(problems)
    rows = [
        (item.line, {column: restore_cell(item.data.get(column, "")) for column in CSV_COLUMNS})
        for item in read
        if isinstance(item, RawRecord)
    ]
    languages = {row["language"] for _, row in rows}
    if len(languages) != 1:
        raise IngestRejectedError([Problem(file, 2, "language", "expected exactly one target language in the file")])
    language = _language(languages.pop(), file, "language")
    incoming = [
        IncomingUnit(
            line, row["key"] or "", row["source"] or "", row["target"] or "", row.get("status") == UnitStatus.APPROVED
        )
        for line, row in rows
    ]
    return language, incoming


def _language(code: str | None, file: str, field: str) -> str:
    try:
        return translation_language(code or "").code
    except ValueError as error:
        raise IngestRejectedError([Problem(file, 1, field, str(error))]) from None


def export_memory(session: Session, language: str) -> bytes:
    """The translation memory of English → `language` as TMX 1.4."""
    language = translation_language(language).code
    store = tmx.tmxfile(sourcelanguage="en")
    rows = session.scalars(
        select(TranslationMemoryRow)
        .where(TranslationMemoryRow.source_language == "en", TranslationMemoryRow.target_language == language)
        .order_by(TranslationMemoryRow.id)
    )
    for row in rows:
        store.addtranslation(row.source_text, "en", row.target_text, language)
    return bytes(store)


def import_memory(session: Session, data: bytes, file: str) -> ImportReport:
    """Add a TMX file's English → Indian-language pairs to the memory (checked whole first)."""
    try:
        store = tmx.tmxfile.parsestring(data)
    except etree.XMLSyntaxError as error:
        raise IngestRejectedError([Problem(file, error.lineno or 1, "xml", error.msg)]) from None
    except Exception as error:  # translate-toolkit raises several types for a file that is not TMX
        raise IngestRejectedError([Problem(file, 1, "xml", f"not a TMX file: {error}")]) from None
    pairs: list[tuple[str, str, str]] = []
    problems: list[Problem] = []
    for unit in store.unit_iter():
        line = unit.xmlelement.sourceline or 1
        tags = [tuv.get(_XML_LANG) or tuv.get("lang") or "" for tuv in unit.xmlelement.iter("{*}tuv", "tuv")]
        if len(tags) != 2:
            problems.append(Problem(file, line, "tuv", "expected an English and one Indian-language variant"))
            continue
        try:
            source, target = (translation_language(tag).code for tag in tags)
        except ValueError as error:
            problems.append(Problem(file, line, "xml:lang", str(error)))
            continue
        if source != "en" or target == "en":
            problems.append(Problem(file, line, "tuv", "expected an English and one Indian-language variant"))
        elif not (unit.source or "").strip() or not (unit.target or "").strip():
            problems.append(Problem(file, line, "seg", "empty segment"))
        else:
            pairs.append((unit.source, unit.target, target))
    if problems:
        raise IngestRejectedError(problems)
    report = ImportReport(file)
    report.memory_entries = sum(remember(session, s, t, lang, origin="import") for s, t, lang in pairs)
    return report
