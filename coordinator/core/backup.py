"""Backups of the database and their restore, whichever database the application uses.

- SQLite (the embedded default): SQLite's online backup API copies a consistent snapshot of the
  file while the application keeps serving (readers and writers go on; the copy restarts on its
  own if a write lands while it runs). Restoring copies the backup back the same way, into the
  database file; stop the application first.
- PostgreSQL: `pg_dump --format=custom` (a consistent snapshot, online) and `pg_restore --clean
  --if-exists --no-owner` into the configured database (stop the application first). The
  client tools must match the server's major version (Debian: postgresql-client).

A backup holds identified health data: keep it encrypted and access-controlled like the
database itself.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess  # pg_dump/pg_restore, with an argument list, never a shell
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup or a restore could not be made; the message says why."""


@dataclass(frozen=True)
class Target:
    """The database a URL names, as the backup tools need it."""

    dialect: str
    sqlite_path: Path | None = None
    libpq_url: str | None = None


def target(database_url: str) -> Target:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise BackupError("An in-memory SQLite database has no file to back up.")
        return Target("sqlite", sqlite_path=Path(url.database))
    if url.get_backend_name() == "postgresql":
        plain = url.set(drivername="postgresql")
        return Target("postgresql", libpq_url=plain.render_as_string(hide_password=False))
    raise BackupError(f"No backup procedure for the {url.get_backend_name()} database.")


def _sqlite_copy(source: Path, destination: Path) -> None:
    """Copy one SQLite database into another with the online backup API."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as origin, sqlite3.connect(destination) as copy:
        origin.backup(copy, pages=4096)
    copy.close()
    origin.close()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return found


def _run(arguments: list[str]) -> None:
    result = subprocess.run(arguments, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or f"{arguments[0]} failed ({result.returncode}).")


def create(database_url: str, destination: Path) -> Path:
    """Write a backup of the database to `destination` (a file; replaced if it exists)."""
    where = target(database_url)
    destination = Path(destination)
    if where.sqlite_path is not None:  # SQLite
        if not where.sqlite_path.exists():
            raise BackupError(f"There is no database file at {where.sqlite_path}.")
        destination.unlink(missing_ok=True)
        _sqlite_copy(where.sqlite_path, destination)
    else:
        destination.parent.mkdir(parents=True, exist_ok=True)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={destination}",
              f"--dbname={where.libpq_url}"])
    return destination


def restore(database_url: str, source: Path) -> None:
    """Replace the database's content by the backup `source` (the application stopped)."""
    where = target(database_url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"There is no backup at {source}.")
    if where.sqlite_path is not None:  # SQLite
        with sqlite3.connect(source) as check:
            if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is not a sound SQLite database.")
        check.close()
        _sqlite_copy(source, where.sqlite_path)
    else:
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={where.libpq_url}", str(source)])
