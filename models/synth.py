"""A seeded generator of catalogs at iGOT scale and beyond, streamed to disk in bounded memory.

It reuses the sample KCM and roles, so its output can be ingested next to the sample catalog.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.kcm_document import read_competency_model
from models.problems import InvalidInputError
from models.records import RawRecord, iter_raw_records
from models.schemas import LEVEL_NAMES, Competency, CompetencyArea, CompetencyTheme, Role

PROVIDERS = (
    "Institute of Secretariat Training and Management (ISTM)",
    "Lal Bahadur Shastri National Academy of Administration (LBSNAA)",
    "National Institute of Financial Management (NIFM)",
    "Karmayogi Bharat",
    "National Informatics Centre (NIC)",
    "National Institute of Rural Development and Panchayati Raj (NIRDPR)",
    "National Institute of Health and Family Welfare (NIHFW)",
    "National Academy of Direct Taxes (NADT)",
    "Indian Institute of Public Administration (IIPA)",
    "Anna Institute of Management, Chennai",
    "YASHADA, Pune",
    "Haryana Institute of Public Administration (HIPA)",
)
FORMATS = ("an introduction", "a practitioner's course", "case studies", "a refresher", "a masterclass")
# Weights reflect a catalog that is mostly English with a long tail of Indian languages.
COURSE_LANGUAGES = (
    ("English", 0.78),
    ("Hindi", 0.12),
    ("Tamil", 0.02),
    ("Bengali", 0.02),
    ("Marathi", 0.02),
    ("Telugu", 0.02),
    ("Kannada", 0.01),
    ("Gujarati", 0.01),
)
LEARNER_LANGUAGES = (
    (["en"], 0.45),
    (["hi", "en"], 0.3),
    (["hi"], 0.08),
    (["ta", "en"], 0.04),
    (["bn", "en"], 0.04),
    (["mr", "hi"], 0.03),
    (["te", "en"], 0.03),
    (["kn", "en"], 0.03),
)
CHUNK = 10_000


@dataclass(frozen=True)
class SynthPlan:
    courses: int
    learners: int
    out: Path
    seed: int = 7


def course_identifier(number: int) -> str:
    return f"do_31{number:016d}"


def synthesise(
    plan: SynthPlan, competencies_file: Path, roles_file: Path, progress: Callable[[int], None] | None = None
) -> dict[str, Path]:
    """Write competencies.json, roles.jsonl, courses.jsonl and learners.jsonl under `plan.out`."""
    model = read_competency_model(competencies_file)
    roles = [Role.model_validate(item.data) for item in iter_raw_records(roles_file) if isinstance(item, RawRecord)]
    if model.problems or not model.competencies or not roles:
        raise InvalidInputError(f"cannot synthesise from {competencies_file} and {roles_file}: invalid or empty")
    plan.out.mkdir(parents=True, exist_ok=True)
    files = {
        "competencies": plan.out / "competencies.json",
        "roles": plan.out / "roles.jsonl",
        "courses": plan.out / "courses.jsonl",
        "learners": plan.out / "learners.jsonl",
    }
    shutil.copyfile(competencies_file, files["competencies"])
    shutil.copyfile(roles_file, files["roles"])
    rng = np.random.default_rng(plan.seed)
    themes = {t.id: t for t in model.themes}
    areas = {a.id: a for a in model.areas}
    _write_courses(files["courses"], plan.courses, model.competencies, themes, areas=areas, rng=rng, progress=progress)
    _write_learners(files["learners"], plan.learners, plan.courses, roles, rng=rng, progress=progress)
    return files


def _write_courses(
    path: Path,
    count: int,
    competencies: list[Competency],
    themes: dict[str, CompetencyTheme],
    *,
    areas: dict[str, CompetencyArea],
    rng: np.random.Generator,
    progress: Callable[[int], None] | None,
) -> None:
    names, weights = zip(*COURSE_LANGUAGES, strict=True)
    with path.open("w", encoding="utf-8") as handle:
        for start in range(0, count, CHUNK):
            size = min(CHUNK, count - start)
            languages = rng.choice(len(names), size=size, p=np.array(weights) / sum(weights))
            tag_counts = rng.integers(1, 4, size=size)
            levels = rng.integers(1, 6, size=size)
            ratings = np.round(rng.uniform(3.0, 4.9, size=size), 1)
            rating_counts = rng.zipf(1.6, size=size).clip(0, 20_000)
            durations = rng.integers(3, 60, size=size) * 600
            lines = []
            for i in range(size):
                tagged = [competencies[j] for j in rng.choice(len(competencies), size=tag_counts[i], replace=False)]
                lead: Competency = tagged[0]
                level = int(levels[i])
                name = f"{lead.name}: {FORMATS[(start + i) % len(FORMATS)]} ({LEVEL_NAMES[level]})"
                record = {
                    "identifier": course_identifier(start + i),
                    "name": name,
                    "description": f"{lead.description} {lead.levels[level]}",
                    "keywords": [c.name.lower() for c in tagged],
                    "language": [names[languages[i]]],
                    "duration": str(int(durations[i])),
                    "primaryCategory": "Course",
                    "organisation": [PROVIDERS[(start + i) % len(PROVIDERS)]],
                    "avgRating": float(ratings[i]),
                    "totalNoOfRating": int(rating_counts[i]),
                    "competencies_v6": [_v6_entry(c, themes, areas, level) for c in tagged],
                }
                lines.append(json.dumps(record, ensure_ascii=False))
            handle.write("\n".join(lines) + "\n")
            if progress:
                progress(size)


def _v6_entry(
    competency: Competency, themes: dict[str, CompetencyTheme], areas: dict[str, CompetencyArea], level: int
) -> dict[str, object]:
    return {
        "competencyAreaId": competency.area_id,
        "competencyAreaName": areas[competency.area_id].name,
        "competencyThemeId": competency.theme_id,
        "competencyThemeName": themes[competency.theme_id].name,
        "competencySubThemeId": competency.id,
        "competencySubThemeName": competency.name,
        "competencyLevel": level,
    }


def _write_learners(
    path: Path,
    count: int,
    course_count: int,
    roles: list[Role],
    *,
    rng: np.random.Generator,
    progress: Callable[[int], None] | None,
) -> None:
    language_sets, weights = zip(*LEARNER_LANGUAGES, strict=True)
    probabilities = np.array(weights) / sum(weights)
    with path.open("w", encoding="utf-8") as handle:
        for start in range(0, count, CHUNK):
            size = min(CHUNK, count - start)
            role_index = rng.integers(0, len(roles), size=size)
            language_index = rng.choice(len(language_sets), size=size, p=probabilities)
            completed_counts = rng.integers(0, 6, size=size)
            lines = []
            for i in range(size):
                role = roles[role_index[i]]
                courses = rng.choice(course_count, size=min(int(completed_counts[i]) + 1, course_count), replace=False)
                known = [r for r in role.competencies if rng.random() < 0.6]
                record = {
                    "id": f"S{start + i:09d}",
                    "roles": [role.id],
                    "department": role.department,
                    "preferred_languages": language_sets[language_index[i]],
                    "enrolled": [course_identifier(int(courses[0]))],
                    "completed": [course_identifier(int(c)) for c in courses[1:]],
                    "competencies": [
                        {
                            "competency_id": r.competency_id,
                            "level": int(rng.integers(1, r.level + 1)),
                            "source": "assessed" if rng.random() < 0.3 else "self",
                        }
                        for r in known
                    ],
                }
                lines.append(json.dumps(record, ensure_ascii=False))
            handle.write("\n".join(lines) + "\n")
            if progress:
                progress(size)
