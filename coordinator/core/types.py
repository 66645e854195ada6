"""Column types shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, Dialect, Enum
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored as naive UTC on every database and always returned timezone-aware (UTC).

    SQLite has no time zones; PostgreSQL's `timestamp with time zone` would convert on read. Storing
    naive UTC everywhere gives one behaviour on both.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None,
                             dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_type(enum: type[StrEnum], length: int) -> Enum:
    """A closed set of values (a `StrEnum`) stored as its values in a VARCHAR(length): the same
    column as a `String(length)` (the CHECK constraint stays the model's), read back as members."""
    return Enum(enum, native_enum=False, length=length, create_constraint=False,
                values_callable=lambda members: [member.value for member in members])
