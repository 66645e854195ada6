"""Days and instants as the rows carry them, computed once and cached.

The generator counts days as proleptic ordinals (`date.toordinal()`) and times as minutes of
the Europe/Paris local day. An instant is stored as naive UTC, the way `core.types.UTCDateTime`
stores it: PostgreSQL reads `2026-03-05 21:10:00` as a timestamp; SQLAlchemy writes SQLite's
datetimes with microseconds (`2026-03-05 21:10:00.000000`), and SQLite compares them as text, so
the generator writes the same text. Local times before 04:00 on the two days a year when the
clocks change are moved to 04:00: every local time the generator writes then exists once and
has the offset of that day's noon, and the local day of each instant is the day it was made on
(the `admitted_on` of a stay is the Paris day of its `admitted_at`, as `stays.models` keeps it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from coordinator.core.time import PARIS

DAY_MINUTES = 24 * 60
EARLIEST_ON_CLOCK_CHANGE = 4 * 60


@dataclass(frozen=True)
class Codec:
    """How a value is written for one database: the NULL marker, booleans, datetime text."""

    null: str | None
    true: str
    false: str
    fraction: str  # appended to "YYYY-MM-DD HH:MM:SS"

    @classmethod
    def for_dialect(cls, name: str) -> Codec:
        if name == "postgresql":
            return cls(null="\\N", true="t", false="f", fraction="")
        return cls(null=None, true="1", false="0", fraction=".000000")


class Clock:
    """Day texts and UTC instant texts for the days from `first` to `last` (ordinals)."""

    def __init__(self, first: int, last: int, codec: Codec):
        self.first = first
        self.last = last
        self.codec = codec
        self.days = [date.fromordinal(day).isoformat() for day in range(first, last + 1)]
        self.offsets = [_noon_offset(day) for day in range(first, last + 1)]
        self.clock_changes = frozenset(
            first + index for index in range(1, len(self.offsets))
            if self.offsets[index] != self.offsets[index - 1])
        self.times = [f" {minute // 60:02d}:{minute % 60:02d}:00{codec.fraction}"
                      for minute in range(DAY_MINUTES)]

    def day(self, ordinal: int) -> str:
        return self.days[ordinal - self.first]

    def instant(self, ordinal: int, minute: int) -> str:
        """The UTC text of local day `ordinal` at `minute` (0-1439; more rolls over to the
        next days)."""
        if minute >= DAY_MINUTES or minute < 0:
            ordinal += minute // DAY_MINUTES
            minute %= DAY_MINUTES
        if minute < EARLIEST_ON_CLOCK_CHANGE and ordinal in self.clock_changes:
            minute = EARLIEST_ON_CLOCK_CHANGE
        index = ordinal - self.first
        utc = minute - self.offsets[index]
        if utc < 0:
            index -= 1
            utc += DAY_MINUTES
        return self.days[index] + self.times[utc]

    def local(self, ordinal: int, minute: int) -> tuple[int, int]:
        """The local (day, minute) the generator really writes for this wish: minutes rolled
        over to the next days, early minutes of a clock-change day moved to 04:00."""
        if minute >= DAY_MINUTES or minute < 0:
            ordinal += minute // DAY_MINUTES
            minute %= DAY_MINUTES
        if minute < EARLIEST_ON_CLOCK_CHANGE and ordinal in self.clock_changes:
            minute = EARLIEST_ON_CLOCK_CHANGE
        return ordinal, minute

    def aware(self, ordinal: int, minute: int) -> datetime:
        """The same instant as an aware datetime (tests compare it with zoneinfo's)."""
        ordinal, minute = self.local(ordinal, minute)
        moment = datetime.combine(date.fromordinal(ordinal), time()) + timedelta(
            minutes=minute - self.offsets[ordinal - self.first])
        return moment.replace(tzinfo=UTC)


def _noon_offset(ordinal: int) -> int:
    """Europe/Paris's offset from UTC at noon of that day, in minutes (60 or 120)."""
    noon = datetime.combine(date.fromordinal(ordinal), time(12), tzinfo=PARIS)
    offset = noon.utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)
