"""Time helpers: instants are UTC in the database, days are Europe/Paris local days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    return datetime.now(PARIS).date()


class NonexistentLocalTime(ValueError):
    """A Paris wall-clock time skipped when the clocks go forward."""


def as_utc(moment: datetime) -> datetime:
    """An aware UTC instant. A date-time without a time zone is Europe/Paris local time (summer
    or winter time as it was that day); a local time skipped when the clocks go forward does
    not exist and is refused; a repeated one (clocks go back) is its first occurrence."""
    if moment.tzinfo is None:
        local = moment.replace(tzinfo=PARIS)
        if local.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != moment:
            raise NonexistentLocalTime(moment.isoformat())
        moment = local
    return moment.astimezone(UTC)
