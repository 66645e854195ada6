"""Whether a row is referenced: every foreign key of the schema that points to its table."""

from __future__ import annotations

from sqlalchemy import Table, exists, or_, select
from sqlalchemy.orm import Session

from coordinator.extensions import db


def is_row_referenced(session: Session, table: Table, key: int) -> bool:
    """True when a row of any table holds a foreign key to the row `key` of `table`: such a row
    cannot be deleted (the database would refuse it), only deactivated. One query."""
    conditions = [
        exists().where(foreign_key.parent == key)
        for other in db.Model.metadata.tables.values()
        for foreign_key in other.foreign_keys
        if foreign_key.column.table is table
    ]
    return bool(conditions) and bool(session.scalar(select(or_(*conditions))))
