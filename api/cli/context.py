"""What every command shares: settings, the database engine, the console and error reporting."""

from __future__ import annotations

import json
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache, wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from typer.exceptions import TyperException

from api.settings import Settings
from embeddings import EncoderNotAvailableError, SearchIndexError
from models import (
    IngestRejectedError,
    InvalidInputError,
    NotFoundError,
    SchemaNotReadyError,
    check_schema,
    make_engine,
)
from models.text_policy import printable, text_problem

console = Console()
# Messages are never wrapped: users grep them and copy file:line references out of them.
errors = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

EXIT_BUG = 1
EXIT_INVALID_INPUT = 2
EXIT_NOT_FOUND = 3
EXIT_NOT_READY = 4


@cache
def settings() -> Settings:
    return Settings()


@cache
def engine(checked: bool = True) -> Engine:
    """The configured database; by default it must already be migrated, and a SQLite file that does not exist
    is not created (a read-only command on an empty home changes nothing: one line, exit code 4)."""
    if checked:
        _refuse_missing_sqlite(settings().database_url)
    db = make_engine(settings().database_url, settings().database)
    if checked:
        check_schema(db)
    return db


def _refuse_missing_sqlite(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.exists():
            raise SchemaNotReadyError(f"no database at {path}: run `karmayogi db upgrade` (or `make demo`) first")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the domain's typed errors into one readable message and an exit code, in one place."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            _check_arguments(kwargs)
            return command(*args, **kwargs)
        except IngestRejectedError as error:
            for problem in error.problems:
                errors.print(printable(str(problem)), markup=False, highlight=False)
            errors.print(f"[red]rejected:[/] {len(error.problems)} problem(s); nothing was written")
            raise typer.Exit(EXIT_INVALID_INPUT) from None
        except (InvalidInputError, ValidationError) as error:
            # A ValidationError reaching here comes from what the user typed: an option or a KARMAYOGI_* setting.
            errors.print(f"[red]error:[/] {error}", highlight=False)
            raise typer.Exit(EXIT_INVALID_INPUT) from None
        except NotFoundError as error:
            errors.print(f"[red]error:[/] {error}", highlight=False)
            raise typer.Exit(EXIT_NOT_FOUND) from None
        except (SearchIndexError, EncoderNotAvailableError) as error:
            errors.print(f"[red]error:[/] {error}", highlight=False)
            raise typer.Exit(EXIT_NOT_READY) from None
        except SchemaNotReadyError as error:
            errors.print(f"[red]error:[/] {error}", highlight=False)
            raise typer.Exit(EXIT_NOT_READY) from None
        except (OperationalError, InterfaceError) as error:
            # The database cannot be reached or used now (refused, timed out, locked): one line, no traceback.
            errors.print(f"[red]error:[/] {database_unavailable(error)}", markup=True, highlight=False)
            raise typer.Exit(EXIT_NOT_READY) from None
        except (typer.Exit, typer.Abort, TyperException, click.exceptions.Exit, click.ClickException):
            raise  # typer's own (it vendors click: its exceptions are not click's) and click's: usage, exits
        except Exception as error:
            raise typer.Exit(report_bug(error)) from None

    return wrapper


def _check_arguments(arguments: dict[str, Any]) -> None:
    """The input-text policy for what was typed: a lone surrogate (a byte that is not UTF-8, as Python decodes
    the command line) may not reach the database."""
    for name, value in arguments.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str) and (reason := text_problem(item)) is not None:
                raise InvalidInputError(f"{name}: {reason}")


def database_unavailable(error: OperationalError | InterfaceError) -> str:
    """`cannot use the database URL (password hidden): the driver's reason`, on one line."""
    try:
        where = make_url(settings().database_url).render_as_string(hide_password=True)
    except Exception:  # the URL itself is what is wrong
        where = "the configured database"
    reason = str(error.orig if error.orig is not None else error).strip().splitlines()
    why = printable(reason[0] if reason else type(error).__name__)
    return f"cannot use the database {escape(where)}: {escape(why)}"


def report_bug(error: Exception) -> int:
    """A fault of ours, not of the input: one line for the user naming an error id, the traceback in the log
    under that id (KARMAYOGI_HOME/logs/errors.log, else standard error)."""
    error_id = uuid.uuid4().hex[:12]
    where = "standard error"
    try:
        path = settings().home / "logs" / "errors.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- error {error_id} at {datetime.now(UTC).isoformat(timespec='seconds')}\n")
            log.write(printable("".join(traceback.format_exception(error)), keep_newlines=True))
        where = str(path)
    except Exception:  # the home itself may be what failed: fall back to the terminal
        traceback.print_exception(error, file=sys.stderr)
    errors.print(
        f"[red]internal error[/] ({type(error).__name__}): this is a fault in karmayogi, not in your input; "
        f"error id {error_id}, details in {where}",
        highlight=False,
    )
    return EXIT_BUG


def print_json(value: Any) -> None:
    """Machine-readable output on stdout (no colour, no wrapping)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if hasattr(value, "__dataclass_fields__"):
        return {name: getattr(value, name) for name in value.__dataclass_fields__}
    raise TypeError(f"cannot serialise {type(value).__name__}")


@contextmanager
def progress_bar(
    description: str, total: int | None, *, unit: str = "", passes: int = 1
) -> Iterator[Callable[[int], None]]:
    """A rich progress bar for long work, counting `total` things of `unit` (e.g. courses) with the time left;
    yields `advance(n)`, where the work reports each thing `passes` times (one per encoder, say). Silent when
    standard error is not a terminal."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        RemainingColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    ) as progress:
        # Until the work reports its first item (models load first), the bar says so instead of sitting at 0.
        task = progress.add_task(f"{description} (starting)", total=total)
        started = False
        lock = threading.Lock()  # an index build reports from two threads (E5 runs beside MiniLM)

        def advance(n: int) -> None:
            nonlocal started
            with lock:
                if not started:
                    started = True
                    progress.reset(task, total=total, description=description)
                progress.advance(task, n / passes)

        yield advance


class RemainingColumn(ProgressColumn):
    """The time left, from the rate since the work began (rich's own waits for several samples): shown as soon
    as the first thing is done."""

    def render(self, task: Task) -> Text:
        elapsed, done, total = task.elapsed, task.completed, task.total
        if not elapsed or not done or total is None:
            return Text("left: estimating", style="progress.remaining")
        left = max(0.0, elapsed * (total - done) / done)
        return Text(f"left: {int(left) // 60}:{int(left) % 60:02d}", style="progress.remaining")
