"""Writing the generated rows in bulk, in the caller's transaction.

- **PostgreSQL**: `COPY table (columns) FROM STDIN` (psycopg 3's `cursor.copy`) of each
  chunk's rows as COPY text. On an empty registry the loaded tables' indexes, unique and
  foreign-key constraints are dropped first and rebuilt after the rows (the same names and
  definitions, read from the catalog): building an index once is much faster than maintaining
  it row by row, and adding a foreign key or a unique constraint checks every row at once.
- **SQLite**: `executemany` of each chunk, one transaction, foreign keys checked at its commit
  (`PRAGMA defer_foreign_keys`), with `synchronous=OFF` and a large page cache for the load.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def driver_connection(session: Session) -> Any:
    """The DB-API connection (psycopg's, sqlite3's) of the session's transaction."""
    connection = session.connection().connection.driver_connection
    assert connection is not None
    return connection


class Loader:
    """Writes rows; `seconds[table]` is the time spent writing each table."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.rows: dict[str, int] = defaultdict(int)

    def put(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        raise NotImplementedError


class PostgresLoader(Loader):
    """COPY on the session's connection, in the caller's thread: the rows come as COPY text
    already (built by the generating process, see services.py). `frozen`: the tables
    truncated in this transaction, copied with FREEZE (see `truncate_for_freeze`)."""

    def __init__(self, session: Session, frozen: frozenset[str] = frozenset()):
        super().__init__()
        self.connection = driver_connection(session)
        self.cursor = self.connection.cursor()
        self.frozen = frozen

    def put(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        self.put_text(table, columns, len(rows), copy_text(rows))

    def put_text(self, table: str, columns: Sequence[str], count: int, payload: bytes) -> None:
        if not count:
            return
        started = time.perf_counter()
        freeze = " WITH (FREEZE)" if table in self.frozen else ""
        with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN{freeze}") \
                as copy:
            copy.write(payload)
        self.rows[table] += count
        self.seconds[table] += time.perf_counter() - started


def copy_text(rows: list[tuple]) -> bytes:
    """Rows of text (NULL as \\N) as the body of a COPY ... FROM STDIN in text format."""
    if not rows:
        return b""
    return ("\n".join(map("\t".join, rows)) + "\n").encode()


class SqliteLoader(Loader):
    def __init__(self, session: Session):
        super().__init__()
        self.connection = driver_connection(session)
        self.connection.execute("PRAGMA defer_foreign_keys=ON")

    def put(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        started = time.perf_counter()
        marks = ", ".join("?" * len(columns))
        self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        self.rows[table] += len(rows)
        self.seconds[table] += time.perf_counter() - started


def sqlite_pragmas(connection: Any) -> dict[str, Any]:
    """Set the bulk-load pragmas on a raw sqlite3 connection (outside a transaction); the
    previous values, for `restore_sqlite_pragmas`."""
    previous = {name: connection.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("synchronous", "cache_size", "temp_store")}
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-262144")  # 256 MB
    connection.execute("PRAGMA temp_store=MEMORY")
    return previous


def restore_sqlite_pragmas(connection: Any, previous: dict[str, Any]) -> None:
    for name, value in previous.items():
        connection.execute(f"PRAGMA {name}={int(value)}")


def truncate_for_freeze(session: Session, tables: Sequence[str]) -> frozenset[str]:
    """PostgreSQL writes the rows of `COPY ... FREEZE` frozen and all-visible (no later
    VACUUM, no hint bits written by the first reader, index-only scans at once), on a table
    truncated in the same transaction. TRUNCATE takes every table referring to the truncated
    ones too: when all of them are empty, truncate them and return `tables`; else nothing."""
    closure = set(tables)
    while True:
        referring = set(session.scalars(text(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid::regclass::text = ANY(:tables)"),
            {"tables": sorted(closure)}))
        if referring <= closure:
            break
        closure |= referring
    for table in sorted(closure):
        if session.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {table})")):
            return frozenset()
    session.execute(text(f"TRUNCATE {', '.join(sorted(closure))}"))
    return frozenset(tables)


def drop_secondary_structures(session: Session, tables: Sequence[str]
                              ) -> dict[str, list[str]]:
    """Drop the indexes, unique and foreign-key constraints of `tables` (primary keys and
    checks stay) and return, per table, the statements that recreate them exactly as they
    were (indexes first, then unique constraints, then foreign keys)."""
    names = {"tables": list(tables)}
    constraints = session.execute(text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
        "FROM pg_constraint WHERE conrelid::regclass::text = ANY(:tables) "
        "AND contype IN ('u', 'f') ORDER BY contype DESC, conname"), names).all()
    indexes = session.execute(text(
        "SELECT tablename, indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = ANY(:tables) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"),
        names).all()
    rebuild: dict[str, list[str]] = defaultdict(list)
    for table, _name, definition in indexes:
        rebuild[table].append(definition)
    for table, name, definition, _kind in constraints:
        rebuild[table].append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for table, name, _definition, _kind in constraints:
        session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for _table, name, _definition in indexes:
        session.execute(text(f'DROP INDEX "{name}"'))
    return rebuild


def reset_sequences(session: Session, tables: Sequence[str]) -> None:
    """PostgreSQL: each table's id sequence continues after its largest id."""
    for table in tables:
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"))
