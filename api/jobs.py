"""Bulk translation jobs started over HTTP run in one background thread, never on the event loop.

One job at a time per worker process: machine translation already uses every core. The job itself
(`translation.run_translation_job`) records its progress in the database, so any worker can report it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Engine, select

from models import InvalidInputError, NotFoundError
from models.tables import TranslationJobRow
from translation import Engine as MTEngine
from translation import Glossary, JobReport, run_translation_job, translation_language

log = logging.getLogger("karmayogi.api.jobs")


@dataclass(frozen=True)
class JobRequest:
    languages: tuple[str, ...]
    fields: tuple[str, ...]
    course_ids: tuple[str, ...] | None

    def params(self) -> dict[str, object]:
        """The parameters as the job stores them, to find its row."""
        return {
            "languages": [translation_language(code).code for code in self.languages],
            "fields": list(self.fields),
            "courses": sorted(self.course_ids) if self.course_ids else None,
        }


class JobRunner:
    def __init__(self, engine: Engine, mt: MTEngine | None, glossary: Callable[[], Glossary]) -> None:
        self.engine = engine
        self.mt = mt
        self.glossary = glossary
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="translation-job")
        self._running: dict[str, Future[JobReport]] = {}

    def start(self, request: JobRequest, wait_seconds: float = 10.0) -> str | None:
        """Queue the job and return its id once it has recorded itself (None if that takes too long)."""
        params = request.params()
        future = self._executor.submit(self._run, request)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if future.done():
                return future.result().job_id
            job_id = self._find_running(params)
            if job_id is not None:
                self._running[job_id] = future
                return job_id
            time.sleep(0.05)
        return None

    def running_in_this_process(self, params: dict[str, object]) -> str | None:
        """A job with these parameters that this process is running now (starting it again would resume it twice)."""
        for job_id, future in list(self._running.items()):
            if future.done():
                del self._running[job_id]
        found = self._find_running(params)
        return found if found is not None and found in self._running else None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, request: JobRequest) -> JobReport:
        try:
            return run_translation_job(
                self.engine,
                list(request.languages),
                list(request.fields),
                course_ids=list(request.course_ids) if request.course_ids else None,
                mt=self.mt,
                glossary=self.glossary(),
            )
        except (InvalidInputError, NotFoundError) as error:  # what was asked cannot be done: not a fault
            log.warning("translation job %s refused: %s", request, error)
            raise
        except Exception:
            log.exception("translation job %s failed", request)
            raise

    def _find_running(self, params: dict[str, object]) -> str | None:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(TranslationJobRow.id, TranslationJobRow.params)
                .where(TranslationJobRow.status == "running")
                .order_by(TranslationJobRow.started_at.desc())
            ).all()
        return next((job_id for job_id, stored in rows if stored == params), None)
