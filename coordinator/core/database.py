"""The database under concurrent use: SQLite transactions that wait for the writer before them.

SQLite has one writer at a time. A transaction started by a plain (deferred) `BEGIN` reads, then
asks for the write lock when it first writes; if another connection committed in between,
SQLite refuses the upgrade at once (`database is locked`) and `busy_timeout` never applies.
So a transaction that may write starts with `BEGIN IMMEDIATE`, which takes the write lock
first and waits for it up to `busy_timeout` (as Rails 7.1 and Django 5.1's `transaction_mode`
do). That is every transaction except those of a GET, HEAD or OPTIONS request: these read
without taking the lock (WAL: readers never wait for the writer, a page stays readable while a
long import writes) and, at their first write (the audit entry of a read, a token's last use),
restart as `BEGIN IMMEDIATE` before it. Nothing was written yet, so the restart loses nothing; the
write then runs after the reads, as it would in autocommit reads followed by an atomic block.
SAVEPOINTs count as writes: a nested transaction is always inside an immediate one.
"""

from __future__ import annotations

import re
import sqlite3

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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


def _may_defer() -> bool:
    return has_request_context() and request.method in READING_METHODS


def configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    """Foreign keys on, WAL journal, waiting writers (`busy_timeout` seconds) and real
    transactions (SAVEPOINT included) on a SQLite engine."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.info.pop(_DEFERRED, None)
        if _may_defer():
            connection.exec_driver_sql("BEGIN")
            connection.info[_DEFERRED] = True
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _before_cursor_execute(connection, cursor, statement, parameters, context, many):
        if connection.info.get(_DEFERRED) and not is_read(statement):
            # The first write of a transaction that only read: take the write lock first.
            connection.info.pop(_DEFERRED)
            dbapi_connection = connection.connection.dbapi_connection
            dbapi_connection.execute("COMMIT")  # ends the reads: nothing was written
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")  # waits up to busy_timeout
            except sqlite3.Error:
                dbapi_connection.execute("BEGIN")  # still in a transaction, which rolls back
                raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection):
        connection.info.pop(_DEFERRED, None)
