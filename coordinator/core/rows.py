"""What the database reports about a statement, typed."""

from __future__ import annotations

from sqlalchemy import CursorResult, Result


def rowcount(result: Result) -> int:
    """The number of rows an UPDATE or DELETE matched. `Session.execute` answers these
    statements with a CursorResult, though SQLAlchemy's annotations promise only a Result."""
    assert isinstance(result, CursorResult)
    return result.rowcount
