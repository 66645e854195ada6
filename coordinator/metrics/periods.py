"""Periods of the registry metrics: inclusive ranges of Europe/Paris local days.

A period is read in SQL through its bounds, computed here once with the Paris calendar of
`core.time` (zoneinfo): the UTC instants of its first local midnight and of the midnight after
its last day, the day from which a person is 65 on its last day, the first day of the flu
vaccination window. The databases never convert time zones (SQLite cannot), so SQLite and
PostgreSQL read the same bounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from coordinator.core.time import as_utc

MAX_YEARS = 5
TREND_MONTHS = 12
FLU_WINDOW_DAYS = 365  # an immunization within the 365 days up to and including `to`
OLDER_AGE = 65


def add_years(day: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return add_months(day, 1) - timedelta(days=1)


def midnight_utc(day: date) -> datetime:
    """The UTC instant of the Paris midnight starting `day` (midnight always exists in Paris:
    the clocks change at 2 or 3 a.m.)."""
    return as_utc(datetime.combine(day, time()))


@dataclass(frozen=True, order=True)
class Period:
    """`first` to `last`, both included (local days)."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def is_whole_months(self) -> bool:
        return self.first.day == 1 and self.last == month_end(self.last)

    @property
    def months(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    def previous(self) -> Period:
        """The previous period of the same length: the same number of calendar months before
        when the period is whole months (a month, a quarter, a year: March → February,
        Q2 → Q1), else the same number of days just before."""
        if self.is_whole_months:
            start = add_months(self.first, -self.months)
            return Period(start, self.first - timedelta(days=1))
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def trend_months(self, count: int = TREND_MONTHS) -> list[Period]:
        """The `count` calendar months ending with the month of `last`, oldest first."""
        start = add_months(self.last.replace(day=1), -(count - 1))
        return [Period(add_months(start, n), month_end(add_months(start, n)))
                for n in range(count)]

    # -- the bounds SQL reads ------------------------------------------------------------------

    @property
    def starts_utc(self) -> datetime:
        return midnight_utc(self.first)

    @property
    def ends_utc(self) -> datetime:
        """The instant just after the period: the Paris midnight after its last day."""
        return midnight_utc(self.last + timedelta(days=1))

    @property
    def older_born_by(self) -> date:
        """People born on or before this day are 65 or more (full years) on `last`."""
        return add_years(self.last, -OLDER_AGE)

    @property
    def flu_window_first(self) -> date:
        return self.last - timedelta(days=FLU_WINDOW_DAYS - 1)

    def __str__(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def period_problems(first: date | None, last: date | None) -> dict[str, list]:
    """What is wrong with a requested period, by parameter (`from`, `to`): nothing, or the
    end before the start, or longer than five years."""
    if first is None or last is None:
        return {}
    if first > last:
        return {"to": [_l("The end of the period (%(to)s) comes before its start (%(from)s).",
                          to=last.isoformat(), **{"from": first.isoformat()})]}
    if last >= add_years(first, MAX_YEARS):
        return {"to": [_l("A period is at most %(years)d years long.", years=MAX_YEARS)]}
    return {}


def days_of(periods: Iterable[Period]) -> Iterator[date]:
    """Every day of these periods, once, in order."""
    seen: set[date] = set()
    for period in sorted(periods):
        day = period.first
        while day <= period.last:
            if day not in seen:
                seen.add(day)
                yield day
            day += timedelta(days=1)
