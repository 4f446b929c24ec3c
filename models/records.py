"""Reading JSON Lines and CSV files record by record, keeping line numbers for error messages.

The readers are bounded and total: whatever the bytes, they yield records or Problems that name a line, never
raise. Each physical line is decoded by itself, so a byte that is not UTF-8 names its line and column; JSON nested
deeper than `MAX_DEPTH` is refused (the decoder would otherwise exhaust the stack); a CSV cell may hold at most
`csv.field_size_limit()` characters; a CSV header must name known columns, each field once, the required ones
present; and text that the input-text policy refuses (NUL, lone surrogates) names its field.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from models.problems import Problem
from models.text_policy import indexed, nesting_depth, printable, text_problem, unsafe_texts

MAX_DEPTH = 32  # the deepest real record (an iGOT course) nests 3 levels


@dataclass(frozen=True)
class RawRecord:
    line: int
    data: dict[str, Any]


@dataclass(frozen=True)
class CsvColumns:
    """The columns a CSV file of one kind may have: for each field the column names that carry it (the first is
    the documented one), and the fields that must be present."""

    fields: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]

    def header_problems(self, header: list[str], file: str) -> list[Problem]:
        field_of = {column: name for name, columns in self.fields.items() for column in columns}
        known = ", ".join(columns[0] for columns in self.fields.values())
        problems: list[Problem] = []
        given: dict[str, str] = {}
        for position, column in enumerate(header, start=1):
            if not column.strip():
                problems.append(Problem(file, 1, f"header[{position}]", "a column has no name"))
            elif column not in field_of:
                reason = f"unknown column {printable(column)!r}; the columns are: {known}"
                problems.append(Problem(file, 1, f"header.{printable(column)}", reason))
            elif field_of[column] in given:
                first = given[field_of[column]]
                reason = (
                    f"column {column!r} appears twice"
                    if first == column
                    else f"columns {first!r} and {column!r} both give {field_of[column]}; keep one"
                )
                problems.append(Problem(file, 1, f"header.{column}", reason))
            else:
                given[field_of[column]] = column
        for name in self.required:
            if name not in given:
                problems.append(Problem(file, 1, f"header.{self.fields[name][0]}", "required column is missing"))
        return problems


def iter_raw_records(path: Path, csv_columns: CsvColumns | None = None) -> Iterator[RawRecord | Problem]:
    """Yield each record of a `.jsonl` or `.csv` file, or a Problem for a line that cannot be read.

    A CSV file's header is checked against `csv_columns`; without them, CSV is refused (only courses come as CSV).
    """
    with path.open("rb") as handle:
        if path.suffix.lower() == ".csv":
            yield from _iter_csv(handle, path.name, csv_columns)
        else:
            yield from _iter_jsonl(handle, path.name)


def iter_csv_records(data: bytes, file: str, csv_columns: CsvColumns) -> Iterator[RawRecord | Problem]:
    """The records of CSV `data` (a file's bytes), read as `iter_raw_records` reads a CSV file."""
    yield from _iter_csv(io.BytesIO(data), file, csv_columns)


def _decoded_lines(handle: BinaryIO, file: str) -> Iterator[tuple[int, str | Problem]]:
    """(line number, text or the Problem of an undecodable line); a UTF-8 byte order mark is dropped."""
    for number, raw in enumerate(handle, start=1):
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as error:
            column = len(raw[: error.start].decode("utf-8", errors="replace")) + 1
            reason = f"not UTF-8 text: byte 0x{raw[error.start]:02x} at column {column} ({error.reason})"
            yield number, Problem(file, number, "record", reason)


def _iter_jsonl(handle: BinaryIO, file: str) -> Iterator[RawRecord | Problem]:
    for number, text in _decoded_lines(handle, file):
        if isinstance(text, Problem):
            yield text
        elif text.strip():
            yield parse_json_record(text, file, number)


def parse_json_record(text: str, file: str, line: int) -> RawRecord | Problem:
    """One JSON object, bounded in depth and checked against the input-text policy."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return Problem(file, line, "record", f"malformed JSON: {error.msg} (column {error.colno})")
    except RecursionError:
        return Problem(file, line, "record", f"JSON nested deeper than {MAX_DEPTH} levels")
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        return Problem(file, line, "record", f"malformed JSON: {error}")
    if not isinstance(data, dict):
        return Problem(file, line, "record", "expected a JSON object")
    if nesting_depth(data) > MAX_DEPTH:
        return Problem(file, line, "record", f"JSON nested deeper than {MAX_DEPTH} levels")
    return _checked(RawRecord(line, data), file)


def _checked(record: RawRecord, file: str) -> RawRecord | Problem:
    for where, reason in unsafe_texts(record.data):
        return Problem(file, record.line, indexed(where), reason, _record_id(record.data))
    return record


def _record_id(data: dict[str, Any]) -> str | None:
    value = data.get("identifier", data.get("id"))
    return printable(str(value)) if value is not None else None


class _UndecodableLine(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _csv_text(lines: Iterable[tuple[int, str | Problem]]) -> Iterator[str]:
    for _, text in lines:
        if isinstance(text, Problem):
            raise _UndecodableLine(text)
        yield text


def _iter_csv(handle: BinaryIO, file: str, columns: CsvColumns | None) -> Iterator[RawRecord | Problem]:
    if columns is None:
        yield Problem(file, 1, "file", "only courses may be given as CSV; give this file as JSON Lines (.jsonl)")
        return
    reader = csv.reader(_csv_text(_decoded_lines(handle, file)))
    try:
        header = next(reader, None)
        if not header:
            yield Problem(file, 1, "header", "empty CSV file, expected a header row")
            return
        header_problems = columns.header_problems(header, file)
        if header_problems:
            yield from header_problems
            return
        for row in reader:
            line = reader.line_num
            if len(row) > len(header):
                yield Problem(file, line, "record", "malformed CSV: more cells than header")
            elif len(row) < len(header) and row:
                yield Problem(file, line, "record", "malformed CSV: fewer cells than header")
            elif row:
                data = {key: value for key, value in zip(header, row, strict=True) if value != ""}
                unsafe = [(key, reason) for key, value in data.items() if (reason := text_problem(value)) is not None]
                if unsafe:
                    key, reason = unsafe[0]
                    yield Problem(file, line, key, reason, _record_id(data))
                else:
                    yield RawRecord(line, data)
    except _UndecodableLine as error:
        yield error.problem
    except csv.Error as error:
        line = max(reader.line_num, 1)
        if "field larger than field limit" in str(error):
            reason = f"a cell is longer than the limit of {csv.field_size_limit()} characters"
        else:
            reason = f"malformed CSV: {error}"
        yield Problem(file, line, "record", reason)


def split_cell(value: Any) -> list[str]:
    """CSV list cells are `|`-separated; JSON lists pass through."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [part.strip() for part in str(value).split("|") if part.strip()]
