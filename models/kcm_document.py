"""Reading the KCM competency document (one JSON file) into validated records."""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from models.problems import Problem, problems_from_validation
from models.records import MAX_DEPTH
from models.schemas import Competency, CompetencyArea, CompetencyTheme, ProficiencyLevel
from models.text_policy import indexed, nesting_depth, unsafe_texts


@dataclass
class ParsedModel:
    levels: list[ProficiencyLevel] = field(default_factory=list)
    areas: list[CompetencyArea] = field(default_factory=list)
    themes: list[CompetencyTheme] = field(default_factory=list)
    competencies: list[Competency] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_competency_model(path: Path) -> ParsedModel:
    """Parse and validate the document; every problem names the line where its object starts."""
    parsed = ParsedModel()
    raw = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = len(raw[raw.rfind(b"\n", 0, error.start) + 1 : error.start].decode("utf-8", "replace")) + 1
        reason = f"not UTF-8 text: byte 0x{raw[error.start]:02x} at column {column} ({error.reason})"
        parsed.problems.append(Problem(path.name, line, "document", reason))
        return parsed
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        parsed.problems.append(Problem(path.name, error.lineno, "document", f"malformed JSON: {error.msg}"))
        return parsed
    except RecursionError:
        parsed.problems.append(Problem(path.name, 1, "document", f"JSON nested deeper than {MAX_DEPTH} levels"))
        return parsed
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        parsed.problems.append(Problem(path.name, 1, "document", f"malformed JSON: {error}"))
        return parsed
    if nesting_depth(document) > MAX_DEPTH:
        parsed.problems.append(Problem(path.name, 1, "document", f"JSON nested deeper than {MAX_DEPTH} levels"))
        return parsed
    if not isinstance(document, dict) or not isinstance(document.get("areas"), list):
        parsed.problems.append(Problem(path.name, 1, "areas", "expected an object with a list `areas`"))
        return parsed

    locate = _LineLocator(text)
    unsafe = list(unsafe_texts(document))
    if unsafe:
        parsed.problems.extend(
            Problem(path.name, locate.enclosing(document, where), indexed(where), why) for where, why in unsafe
        )
        return parsed
    seen: dict[str, str] = {}

    def check(model_type: type[BaseModel], data: Any, path_text: str) -> Any:
        line = locate(data.get("id") if isinstance(data, dict) else None)
        if not isinstance(data, dict):
            parsed.problems.append(Problem(path.name, line, path_text, "expected an object"))
            return None
        try:
            record = model_type.model_validate(data)
        except ValidationError as error:
            parsed.problems.extend(
                problems_from_validation(error, path.name, line, data.get("id"), prefix=path_text + ".")
            )
            return None
        record_id = getattr(record, "id", None)
        if record_id is not None:
            if record_id in seen:
                parsed.problems.append(
                    Problem(path.name, line, f"{path_text}.id", f"duplicate id {record_id!r} (also {seen[record_id]})")
                )
                return None
            seen[record_id] = path_text
        return record

    def items(container: dict[str, Any], key: str, path_text: str) -> list[Any]:
        value = container.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            parsed.problems.append(Problem(path.name, locate(container.get("id")), path_text, "expected a list"))
            return []
        return value

    for position, level in enumerate(items(document, "proficiency_levels", "proficiency_levels")):
        record = check(ProficiencyLevel, level, f"proficiency_levels[{position}]")
        if record:
            parsed.levels.append(record)
    for a, area in enumerate(document["areas"]):
        area_record = check(CompetencyArea, area, f"areas[{a}]")
        if not area_record:
            continue
        parsed.areas.append(area_record)
        for t, theme in enumerate(items(area, "themes", f"areas[{a}].themes")):
            theme_path = f"areas[{a}].themes[{t}]"
            theme_record = check(CompetencyTheme, {**_plain(theme), "area_id": area_record.id}, theme_path)
            if not theme_record:
                continue
            parsed.themes.append(theme_record)
            for s, sub_theme in enumerate(items(theme, "sub_themes", f"{theme_path}.sub_themes")):
                data = {**_plain(sub_theme), "theme_id": theme_record.id, "area_id": area_record.id}
                competency = check(Competency, data, f"{theme_path}.sub_themes[{s}]")
                if competency:
                    parsed.competencies.append(competency)
    return parsed


def _plain(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _LineLocator:
    """Finds the line on which an object with a given id is written (JSON parsers drop positions)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, record_id: Any) -> int:
        if not isinstance(record_id, str):
            return 1
        offset = self.text.find(json.dumps(record_id, ensure_ascii=False))
        return self.text.count("\n", 0, offset) + 1 if offset >= 0 else 1

    def enclosing(self, document: Any, where: tuple[str | int, ...]) -> int:
        """The line of the innermost object with an id on the way to `where` in `document`."""
        record_id, item = None, document
        for part in where:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                record_id = item["id"]
            try:
                item = item[part]
            except (KeyError, IndexError, TypeError):
                break
        return self(record_id)
