"""Normalising the course shapes we accept (iGOT v6, legacy iGOT v5, plain JSON, CSV) into one form."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from models.problems import InvalidRecordError
from models.records import CsvColumns, split_cell

# Our field name -> the input keys that may carry it, in order of preference.
COURSE_ALIASES: dict[str, tuple[str, ...]] = {
    "identifier": ("identifier", "id"),
    "name": ("name", "title"),
    "description": ("description",),
    "keywords": ("keywords",),
    "languages": ("languages", "language"),
    "duration_seconds": ("duration_seconds", "duration"),
    "primary_category": ("primary_category", "primaryCategory"),
    "organisations": ("organisations", "organisation", "source"),
    "rating": ("rating", "avgRating"),
    "rating_count": ("rating_count", "totalNoOfRating", "totalRatings", "ratingCount"),
}
LEVEL_KEYS = ("competencyLevel", "level", "selectedLevelLevel")
# A CSV header may name these columns (each field once); any other column rejects the file instead of being dropped.
CSV_COLUMNS = CsvColumns(
    fields={**COURSE_ALIASES, "competencies": ("competencies",), "status": ("status",)},
    required=("identifier", "name"),
)


@dataclass
class CompetencyIndex:
    """Known competencies, to resolve iGOT entries by sub-theme id or (theme, sub-theme) name."""

    ids: set[str] = field(default_factory=set)
    by_name: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name -> [(id, theme name)]

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, str]]) -> CompetencyIndex:
        """`rows` are (competency id, competency name, theme name)."""
        index = cls()
        for competency_id, name, theme_name in rows:
            index.ids.add(competency_id)
            index.by_name.setdefault(name.casefold(), []).append((competency_id, theme_name.casefold()))
        return index

    def resolve(self, field_path: str, sub_theme_id: str | None, name: str | None, theme: str | None) -> str:
        if sub_theme_id and sub_theme_id in self.ids:
            return sub_theme_id
        if name:
            matches = self.by_name.get(name.strip().casefold(), [])
            if theme and len(matches) > 1:
                matches = [m for m in matches if m[1] == theme.strip().casefold()]
            if len(matches) == 1:
                return matches[0][0]
            if len(matches) > 1:
                raise InvalidRecordError(field_path, f"sub-theme name {name!r} is ambiguous; give its id")
        shown = sub_theme_id or name
        if not shown:
            raise InvalidRecordError(field_path, "entry names no sub-theme (id or name)")
        raise InvalidRecordError(field_path, f"unknown competency {shown!r}")


STATUSES = {"live": "active", "active": "active", "retired": "retired"}


def detect_format(data: dict[str, Any], from_csv: bool) -> str:
    if from_csv:
        return "csv"
    if "competencies_v6" in data:
        return "igot_v6"
    if "competencies_v5" in data:
        return "igot_v5"
    if any(key in data for key in ("primaryCategory", "avgRating", "totalNoOfRating", "language")):
        return "igot_v6"
    return "plain"


def normalise_course(data: dict[str, Any], index: CompetencyIndex, from_csv: bool = False) -> dict[str, Any]:
    """Map any accepted shape to the field names of `models.schemas.Course` (not yet validated)."""
    source_format = detect_format(data, from_csv)
    course: dict[str, Any] = {"source_format": source_format}
    for name, keys in COURSE_ALIASES.items():
        key = next((k for k in keys if k in data and data[k] is not None), None)
        if key is not None:
            course[name] = data[key]
    for name in ("keywords", "languages", "organisations"):
        if name in course:
            course[name] = split_cell(course[name])
    if "duration_seconds" in course:
        course["duration_seconds"] = _seconds(course["duration_seconds"], source_key(data, "duration_seconds"))
    if isinstance(data.get("status"), str):
        # iGOT's content status: Live is served, Retired is withdrawn; other values fail validation by name.
        course["status"] = STATUSES.get(data["status"].strip().casefold(), data["status"])
    if source_format == "igot_v6":
        course["competencies"] = _igot_competencies(data.get("competencies_v6"), "competencies_v6", index, v5=False)
    elif source_format == "igot_v5":
        course["competencies"] = _igot_competencies(data.get("competencies_v5"), "competencies_v5", index, v5=True)
    else:
        course["competencies"] = _plain_competencies(data.get("competencies"), index)
    return course


def source_key(data: dict[str, Any], name: str) -> str:
    """The input key that carried our field `name`, for error messages in the user's own terms."""
    return next((k for k in COURSE_ALIASES.get(name, (name,)) if k in data), name)


def _seconds(value: Any, key: str) -> int:
    if isinstance(value, bool):
        raise InvalidRecordError(key, "expected a number of seconds")
    try:
        seconds = float(str(value).strip())
    except ValueError:
        raise InvalidRecordError(key, f"expected a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds):
        raise InvalidRecordError(key, f"expected a finite number of seconds, got {value!r}")
    if seconds < 0:
        raise InvalidRecordError(key, f"negative duration {value!r}")
    return round(seconds)


def _level(value: Any, key: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        level = int(str(value).strip())
    except ValueError:
        raise InvalidRecordError(key, f"level must be a whole number 1-5, got {value!r}") from None
    if not 1 <= level <= 5:
        raise InvalidRecordError(key, f"level {level} is outside 1-5")
    return level


def _igot_competencies(entries: Any, key: str, index: CompetencyIndex, v5: bool) -> list[dict[str, Any]]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise InvalidRecordError(key, "expected a list of competency entries")
    name_key, theme_key = (
        ("competencySubTheme", "competencyTheme")
        if v5
        else (
            "competencySubThemeName",
            "competencyThemeName",
        )
    )
    competencies = []
    for position, entry in enumerate(entries):
        path = f"{key}[{position}]"
        if not isinstance(entry, dict):
            raise InvalidRecordError(path, "expected an object")
        for text_key in ("competencySubThemeId", name_key, theme_key):
            if not isinstance(entry.get(text_key), str | None):
                raise InvalidRecordError(f"{path}.{text_key}", "expected a string")
        competency_id = index.resolve(
            path, entry.get("competencySubThemeId"), entry.get(name_key), entry.get(theme_key)
        )
        level_key = next((k for k in LEVEL_KEYS if k in entry), LEVEL_KEYS[0])
        competencies.append(
            {"competency_id": competency_id, "level": _level(entry.get(level_key), f"{path}.{level_key}")}
        )
    return competencies


def _plain_competencies(value: Any, index: CompetencyIndex) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = split_cell(value)
    elif isinstance(value, list):
        items = value
    else:
        raise InvalidRecordError("competencies", "expected a list")
    competencies = []
    for position, item in enumerate(items):
        path = f"competencies[{position}]"
        if isinstance(item, str):
            competency_id, _, level = item.partition(":")
            item = {"competency_id": competency_id.strip(), "level": level or None}
        if not isinstance(item, dict):
            raise InvalidRecordError(path, "expected an object or `ID:LEVEL`")
        competency_id = str(item.get("competency_id") or "")
        if competency_id not in index.ids:
            raise InvalidRecordError(f"{path}.competency_id", f"unknown competency {competency_id!r}")
        competencies.append({"competency_id": competency_id, "level": _level(item.get("level"), f"{path}.level")})
    return competencies
