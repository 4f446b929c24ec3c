"""Reading JSON Lines and CSV files record by record, keeping line numbers for error messages."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.problems import Problem


@dataclass(frozen=True)
class RawRecord:
    line: int
    data: dict[str, Any]


def iter_raw_records(path: Path) -> Iterator[RawRecord | Problem]:
    """Yield each record of a `.jsonl` or `.csv` file, or a Problem for a line that cannot be parsed."""
    if path.suffix.lower() == ".csv":
        yield from _iter_csv(path)
    else:
        yield from _iter_jsonl(path)


def _iter_jsonl(path: Path) -> Iterator[RawRecord | Problem]:
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as error:
                yield Problem(path.name, number, "record", f"malformed JSON: {error.msg} (column {error.colno})")
                continue
            if not isinstance(data, dict):
                yield Problem(path.name, number, "record", "expected a JSON object")
                continue
            yield RawRecord(number, data)


def _iter_csv(path: Path) -> Iterator[RawRecord | Problem]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            yield Problem(path.name, 1, "header", "empty CSV file, expected a header row")
            return
        for row in reader:
            # DictReader puts surplus cells under the key None and fills missing ones with None.
            if None in row:
                yield Problem(path.name, reader.line_num, "record", "malformed CSV: more cells than header")
                continue
            if any(value is None for value in row.values()):
                yield Problem(path.name, reader.line_num, "record", "malformed CSV: fewer cells than header")
                continue
            yield RawRecord(reader.line_num, {key: value for key, value in row.items() if value != ""})


def split_cell(value: Any) -> list[str]:
    """CSV list cells are `|`-separated; JSON lists pass through."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [part.strip() for part in str(value).split("|") if part.strip()]
