"""Engines, sessions and schema migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from models.settings import DatabaseSettings
from models.stall_guard import GUARD

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaNotReadyError(RuntimeError):
    """The database has not been migrated to the schema this code expects."""


def make_engine(url: str, limits: DatabaseSettings | None = None) -> Engine:
    """An engine for `url` whose calls give up within `limits` (the defaults of `DatabaseSettings` when None)."""
    limits = limits or DatabaseSettings()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # The busy timeout is SQLite's own bounded retry: a write waits for another writer's lock this long.
        engine = create_engine(
            url, pool_timeout=limits.pool_timeout_seconds, connect_args={"timeout": limits.busy_timeout_seconds}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(
        url, pool_timeout=limits.pool_timeout_seconds, connect_args=_postgres_arguments(parsed, limits)
    )
    _guard_postgres_calls(engine, answer_seconds=limits.statement_timeout_seconds + 2)
    return engine


def _postgres_arguments(url: URL, limits: DatabaseSettings) -> dict[str, Any]:
    # `options` replaces the URL's own (a test's search_path, say): keep those and add the statement timeout.
    given = url.query.get("options", "")
    options = " ".join(given) if isinstance(given, tuple) else given
    statement_ms = round(limits.statement_timeout_seconds * 1000)
    return {
        "connect_timeout": limits.connect_timeout_seconds,
        "options": f"{options} -c statement_timeout={statement_ms}".strip(),
    }


def _guard_postgres_calls(engine: Engine, *, answer_seconds: float) -> None:
    """Each statement, and the liveness check of a connection taken from the pool, gives up when no answer has
    come in time (models/stall_guard.py says why this is needed)."""
    armed: dict[int, tuple[int, int]] = {}  # id of a cursor -> its socket and the guard's token

    @event.listens_for(engine, "before_cursor_execute")
    def arm(_conn: Any, cursor: Any, *_args: Any) -> None:
        try:
            descriptor = cursor.connection.pgconn.socket
        except psycopg.Error:
            return  # the connection is already closed: the statement fails by itself
        armed[id(cursor)] = (descriptor, GUARD.arm(descriptor, answer_seconds))

    def disarm(cursor: Any) -> None:
        found = armed.pop(id(cursor), None)
        if found is not None:
            GUARD.disarm(*found)

    @event.listens_for(engine, "after_cursor_execute")
    def answered(_conn: Any, cursor: Any, *_args: Any) -> None:
        disarm(cursor)

    @event.listens_for(engine, "handle_error")
    def failed(context: ExceptionContext) -> None:
        # `context.cursor` is declared but never set (SQLAlchemy 2.0): the execution context holds the cursor.
        if context.execution_context is not None:
            disarm(context.execution_context.cursor)

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        # In place of `pool_pre_ping`, whose check could wait forever on a silent connection.
        connection: psycopg.Connection[Any] = dbapi_connection  # type: ignore[assignment]
        try:
            with GUARD.guarding(connection.pgconn.socket, min(answer_seconds, 2.0)):
                connection.execute("SELECT 1")
                connection.rollback()
        except psycopg.Error as error:
            raise sa_exc.DisconnectionError(f"connection failed its liveness check: {error}") from error


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


# SQLite's messages for a database that cannot be used now, as opposed to a fault in the statement.
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "database is busy",
    "unable to open database file",
    "disk i/o error",
)
# PostgreSQL's error classes for the same: connection exception, insufficient resources, operator intervention
# (statement timeout, shutdown), system error; and lock_not_available.
_POSTGRES_UNAVAILABLE = ("08", "53", "57", "58", "55P03")


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime: every time is written in UTC, and SQLite hands it back naive."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def error_line(error: BaseException) -> str:
    """`Type: first line of the message` of a database error (the driver's own, not SQLAlchemy's wrapper with its
    SQL and parameters): for a log line that says what happened without a traceback or the data."""
    cause = error.orig if isinstance(error, sa_exc.DBAPIError) and error.orig is not None else error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be used right now (down, unreachable, silent, locked by another
    writer, timed out, or no free connection) rather than that a statement is wrong: a 503, not a 500."""
    if isinstance(error, sa_exc.TimeoutError):  # no free connection in the pool in time
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig if error.orig is not None else error
    if isinstance(error, sqlite3.OperationalError):
        return str(error).lower().startswith(_SQLITE_UNAVAILABLE)
    if isinstance(error, psycopg.InterfaceError):
        return True
    if isinstance(error, psycopg.OperationalError):
        state = error.sqlstate
        return state is None or state.startswith(_POSTGRES_UNAVAILABLE)
    return False


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to date; safe to run any number of times."""
    command.upgrade(alembic_config(engine), revision)


def check_schema(engine: Engine) -> None:
    """Raise a helpful error when the database is missing migrations."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise SchemaNotReadyError(
            f"database schema is at {current or 'nothing'}, code expects {head}: run `karmayogi db upgrade`"
        )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    session = sessions()
    succeeded = False
    try:
        yield session
        succeeded = True
    finally:
        end_unit_of_work(session, succeeded)


def end_unit_of_work(session: Session, succeeded: bool) -> None:
    """Commit `session` if its work `succeeded`, else roll it back (also when the commit fails); then close it."""
    try:
        if succeeded:
            try:
                session.commit()
            except BaseException:
                session.rollback()
                raise
        else:
            session.rollback()
    finally:
        session.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work on a fresh session of `engine`."""
    with unit_of_work(session_factory(engine)) as session:
        yield session
