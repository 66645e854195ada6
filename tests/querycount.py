"""Counting the SQL statements a piece of code (usually one request) sends to the database.

    with count_queries() as queries:
        client.get("/patients/")
    assert queries.count == 7, queries.report()

Every statement that reaches a DBAPI cursor is recorded (SQLAlchemy's `before_cursor_execute`
event on the engine), with one exception, written here so that nothing is excluded silently:
the SAVEPOINT, RELEASE SAVEPOINT and ROLLBACK TO SAVEPOINT statements. The test isolation of
tests/conftest.py turns each of the application's transactions into a savepoint; in production
a transaction is begun and committed by the DBAPI connection (SQLite's explicit `BEGIN` of
coordinator/web.py is the other statement that is no work of a request's and is left out). The
ignored statements are still kept in `ignored` for the curious.

`count_queries(fresh_session=True)` (the default) first empties the test's session, so that the
request starts with an empty identity map as a request does in production (the test keeps one
session open across its requests, and objects loaded by an earlier request or by the factories
would otherwise save the counted request some queries). Keep ids, not objects, across it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from coordinator.extensions import db

TRANSACTION_CONTROL = re.compile(
    r"^\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|BEGIN)\b", re.IGNORECASE)


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        """The statements, numbered, one line each (for an assertion message)."""
        return "\n".join(f"{number:3d}. {' '.join(statement.split())[:300]}"
                         for number, statement in enumerate(self.statements, 1))

    def record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if TRANSACTION_CONTROL.match(statement):
            self.ignored.append(statement)
        else:
            self.statements.append(statement)


@contextmanager
def count_queries(*, fresh_session: bool = True) -> Iterator[QueryLog]:
    """Record the statements sent to the application's engine inside the block."""
    if fresh_session:
        db.session.remove()
    log = QueryLog()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", log.record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", log.record)
