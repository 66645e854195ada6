"""The database under concurrent use: SQLite transactions that wait for the writer before them,
the errors that mean "the database is unavailable" (answered 503), and the write probe of
/healthz.

SQLite has one writer at a time. A transaction started by a plain (deferred) `BEGIN` reads, then
asks for the write lock when it first writes; if another connection committed in between,
SQLite refuses the upgrade at once (`database is locked`) and `busy_timeout` never applies.
So a write transaction starts with `BEGIN IMMEDIATE`, which takes the write lock first and
waits for it up to `busy_timeout` (as Rails 7.1 and Django 5.1's `transaction_mode` do):
- a POST, PUT, PATCH or DELETE request begins `BEGIN IMMEDIATE`: it is meant to change
  something, and its reads, checks and writes are one serialized transaction (two saves with
  the same version: the second reads the first's result and answers a conflict);
- every other transaction (a GET's, a job's, an import's, a command's) reads without the lock
  (WAL: readers never wait for the writer; a page stays readable while an import writes, an
  e-mail or a PDF is not sent or rendered holding it) and, at its first write (an audit entry,
  a token's last use, a SAVEPOINT), restarts as `BEGIN IMMEDIATE` before it. Nothing was
  written yet, so the restart loses nothing; its reads were made just before, as in PostgreSQL's
  READ COMMITTED, which production runs (versions and unique indexes catch what changed).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from typing import Any

from flask import has_request_context, request
from sqlalchemy import event, exc, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

from coordinator.core.normalize import SQL_FOLD_FUNCTION, fold

AnySession = Session | scoped_session[Any]  # db.session is a scoped session
WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFERRED = "coordinator_deferred_transaction"  # key of Connection.info: reads only so far
_READS = ("SELECT", "PRAGMA", "EXPLAIN")
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def is_read(statement: str) -> bool:
    """Whether an SQL statement only reads (anything unknown counts as a write)."""
    head = statement.lstrip()[:8].upper()
    if head.startswith(_READS):
        return True
    if head.startswith("WITH"):
        return _WRITES.search(statement) is None
    return False


def _writes_from_the_start() -> bool:
    return has_request_context() and request.method in WRITING_METHODS


def configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    """Foreign keys on, WAL journal, waiting writers (`busy_timeout` seconds) and real
    transactions (SAVEPOINT included) on a SQLite engine."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            dbapi_connection.create_function(SQL_FOLD_FUNCTION, 1, fold, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.info.pop(_DEFERRED, None)
        if _writes_from_the_start():
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
            connection.info[_DEFERRED] = True

    @event.listens_for(engine, "before_cursor_execute")
    def _before_cursor_execute(connection: Connection, cursor: Any, statement: str,
                               parameters: Any, context: Any, many: bool) -> None:
        if connection.info.get(_DEFERRED) and not is_read(statement):
            # The first write of a transaction that only read: take the write lock first.
            connection.info.pop(_DEFERRED)
            dbapi_connection = cursor.connection  # sqlite3's, of this very statement
            dbapi_connection.execute("COMMIT")  # ends the reads: nothing was written
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")  # waits up to busy_timeout
            except sqlite3.Error:
                dbapi_connection.execute("BEGIN")  # still in a transaction, which rolls back
                raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection: Connection) -> None:
        connection.info.pop(_DEFERRED, None)


# SQLite's primary result codes of a database that cannot serve (SQLITE_ERROR, a bad statement
# such as "no such column", is a bug: it stays a 500).
_SQLITE_UNAVAILABLE = frozenset({
    sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOTADB,
})


def _codes(error: BaseException) -> tuple[int | None, str | None]:
    original = getattr(error, "orig", None)
    return (getattr(original, "sqlite_errorcode", None),
            getattr(original, "sqlstate", None) or getattr(original, "pgcode", None))


def is_unavailable(error: BaseException) -> bool:
    """Whether an exception means the database cannot serve now (busy, unreachable, read-only,
    full, gone mid-request): the request is answered 503 and may be tried again."""
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlite_code, sqlstate = _codes(error)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in _SQLITE_UNAVAILABLE
    # PostgreSQL: connection, shutdown, resources, locks, timeouts (OperationalError), and a
    # server in read-only mode (a standby, default_transaction_read_only)
    return isinstance(error, exc.OperationalError) or sqlstate == "25006"


def is_busy(error: BaseException) -> bool:
    """A lock held by another writer (SQLite's busy timeout, PostgreSQL's lock timeout)."""
    sqlite_code, sqlstate = _codes(error)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return sqlstate in ("55P03", "57014")  # lock_not_available, query_canceled (timeout)


def probe_writes(session: AnySession, timeout: float, busy_timeout: float) -> str:
    """Whether the database answers and accepts writes: "ok", "busy" (another writer held the
    lock for `timeout` seconds: it works, requests wait), "read_only" (a write is refused) or
    "unreachable". The probe writes nothing: an UPDATE matching no row, rolled back, still
    needs a writable database (SQLite: a write transaction; PostgreSQL: not read-only).
    `busy_timeout`: SQLite's usual wait, restored after the probe's shorter one."""
    dialect = session.get_bind().dialect.name
    try:
        session.execute(text("SELECT 1"))
    except exc.SQLAlchemyError:
        rollback(session)
        return "unreachable"
    try:
        if dialect == "sqlite":
            _set_busy_timeout(session, timeout)
        elif dialect == "postgresql":
            session.execute(text(f"SET LOCAL lock_timeout = {int(timeout * 1000)}"))
            session.execute(text(f"SET LOCAL statement_timeout = {int(timeout * 1000)}"))
        session.execute(text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0"))
    except exc.SQLAlchemyError as error:
        return "busy" if is_busy(error) else "read_only"
    else:
        return "ok"
    finally:
        if dialect == "sqlite":
            _set_busy_timeout(session, busy_timeout)
        rollback(session)


def _set_busy_timeout(session: AnySession, seconds: float) -> None:
    try:
        session.execute(text(f"PRAGMA busy_timeout={int(seconds * 1000)}"))
    except exc.SQLAlchemyError:
        rollback(session)


def rollback(session: AnySession) -> None:
    """Roll back, whatever the state of the connection (gone: the pool replaces it)."""
    with contextlib.suppress(exc.SQLAlchemyError):
        session.rollback()
