"""Where the sample catalog shipped with the project lives (`data/` at the repository root)."""

from __future__ import annotations

from pathlib import Path

from models.ingest import Kind

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
COMPETENCIES_FILE = DATA_DIR / "kcm" / "competencies.json"
ROLES_FILE = DATA_DIR / "roles.jsonl"
COURSES_FILE = DATA_DIR / "courses.jsonl"
LEARNERS_FILE = DATA_DIR / "learners.jsonl"

# In the order that references require: courses point at competencies, learners at roles and courses.
SAMPLE_FILES: tuple[tuple[Kind, Path], ...] = (
    ("competencies", COMPETENCIES_FILE),
    ("roles", ROLES_FILE),
    ("courses", COURSES_FILE),
    ("learners", LEARNERS_FILE),
)
