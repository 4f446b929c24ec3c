"""Re-sending an ingest changes nothing, also when the copies arrive at once (retries of a client that timed
out): identical concurrent ingests of new courses all succeed, on SQLite and PostgreSQL, and the catalog and its
change feed hold each course once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, func, select

from models import IngestReport, ingest_file, session_scope
from models.tables import CatalogChangeRow, CourseRow
from tests.conftest import write_jsonl


def test_identical_concurrent_ingests_all_succeed_with_one_outcome(engine: Engine, tmp_path: Path):
    courses = [
        {
            "identifier": f"do_concurrent_{n}",
            "name": f"Course {n}",
            "description": "Records management.",
            "languages": ["en"],
        }
        for n in range(300)
    ]
    path = write_jsonl(tmp_path / "courses.jsonl", courses)
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports: list[IngestReport] = list(pool.map(lambda _: ingest_file(engine, "courses", path), range(4)))
    assert sorted(report.created for report in reports) == [0, 0, 0, 300]
    assert all(report.created + report.unchanged == 300 for report in reports)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(CourseRow)) == 300
        assert session.scalar(select(func.count()).select_from(CatalogChangeRow)) == 300
