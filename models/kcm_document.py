"""Reading the KCM competency document (one JSON file) into validated records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from models.problems import Problem, problems_from_validation
from models.schemas import Competency, CompetencyArea, CompetencyTheme, ProficiencyLevel


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
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        parsed.problems.append(Problem(path.name, error.lineno, "document", f"malformed JSON: {error.msg}"))
        return parsed
    if not isinstance(document, dict) or not isinstance(document.get("areas"), list):
        parsed.problems.append(Problem(path.name, 1, "areas", "expected an object with a list `areas`"))
        return parsed

    locate = _LineLocator(text)
    seen: dict[str, str] = {}

    def check(model_type: type[BaseModel], data: Any, path_text: str) -> Any:
        line = locate(data.get("id") if isinstance(data, dict) else None)
        if not isinstance(data, dict):
            parsed.problems.append(Problem(path.name, line, path_text, "expected an object"))
            return None
        try:
            record = model_type.model_validate(data)
        except ValidationError as error:
            parsed.problems.extend(problems_from_validation(error, path.name, line, data.get("id"), path_text + "."))
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

    for position, level in enumerate(document.get("proficiency_levels") or []):
        record = check(ProficiencyLevel, level, f"proficiency_levels[{position}]")
        if record:
            parsed.levels.append(record)
    for a, area in enumerate(document["areas"]):
        area_record = check(CompetencyArea, area, f"areas[{a}]")
        if not area_record:
            continue
        parsed.areas.append(area_record)
        for t, theme in enumerate(area.get("themes") or []):
            theme_path = f"areas[{a}].themes[{t}]"
            theme_record = check(CompetencyTheme, {**_plain(theme), "area_id": area_record.id}, theme_path)
            if not theme_record:
                continue
            parsed.themes.append(theme_record)
            for s, sub_theme in enumerate(theme.get("sub_themes") or []):
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
