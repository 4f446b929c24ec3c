"""Problems found in input files, reported as `FILE:LINE: field: reason`."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    reason: str
    record_id: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


class InvalidInputError(ValueError):
    """Input its sender can fix: a bad file, record, field, option or request value. The HTTP service answers it
    with a 422 and the command line with exit code 2; any other exception is a bug (a 500 with an error id, exit
    code 1). A ValueError, so that pydantic validators may raise it too."""


class InvalidRecordError(InvalidInputError):
    """One record is invalid; `field` names where (dotted path), `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class IngestRejectedError(Exception):
    """A file held invalid records; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was written")
        self.problems = problems


def problems_from_validation(
    error: ValidationError, file: str, line: int, record_id: str | None = None, *, prefix: str = ""
) -> list[Problem]:
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "record"
        message = item["msg"].removeprefix("Value error, ")
        problems.append(Problem(file, line, prefix + location, message, record_id))
    return problems
