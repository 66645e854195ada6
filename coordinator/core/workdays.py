"""Working days in France: Monday to Friday, public holidays excluded (the `holidays` library).

The holidays are those of metropolitan France, plus those of the patient's department where it
has its own: Alsace-Moselle (Good Friday, 26 December) and the overseas departments and
collectivities (abolition of slavery, …). The department is read from the postal code, which is
enough here: `57` Moselle, `67`/`68` Alsace, `971` to `978` and `986` to `988` overseas; any other
code (or none) is metropolitan France.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

# The first digits of a postal code → the `holidays.France` subdivision.
_SUBDIVISIONS = {"57": "57", "67": "6AE", "68": "6AE", "971": "971", "972": "972",
                 "973": "973", "974": "974", "975": "PM", "976": "976", "977": "BL",
                 "978": "MF", "986": "WF", "987": "PF", "988": "NC"}


def subdivision_for(postal_code: str | None) -> str | None:
    """The holidays subdivision of a French postal code (None: metropolitan France)."""
    code = (postal_code or "").strip()
    if len(code) != 5 or not code.isdigit():
        return None
    if code[:2] in ("97", "98"):
        return _SUBDIVISIONS.get(code[:3])
    return _SUBDIVISIONS.get(code[:2])


@lru_cache(maxsize=256)
def _holidays_of(year: int, subdivision: str | None) -> frozenset[date]:
    """The public holidays of one year (computed once: a frozen set, safe across threads)."""
    return frozenset(holidays.country_holidays("FR", subdiv=subdivision, years=year))


def is_working_day(day: date, subdivision: str | None = None) -> bool:
    return day.weekday() < 5 and day not in _holidays_of(day.year, subdivision)


def next_working_day(day: date, subdivision: str | None = None) -> date:
    """`day` itself when it is a working day, else the first working day after it (a proposal
    on Friday 1 January 2027 moves to Monday 4 January)."""
    while not is_working_day(day, subdivision):
        day += timedelta(days=1)
    return day


def non_working_reason(day: date, subdivision: str | None = None,
                       language: str = "fr") -> str | None:
    """Why `day` is not a working day: the holiday's name in `language` (`fr` or `en_US`, as
    the library names them), "weekend", or None on a working day."""
    if day in _holidays_of(day.year, subdivision):
        names = holidays.country_holidays("FR", subdiv=subdivision, years=day.year,
                                          language=language)
        return str(names.get(day) or "holiday")
    if day.weekday() >= 5:
        return "weekend"
    return None


def add_working_days(start: date, days: int, subdivision: str | None = None) -> date:
    """The day `days` working days after `start` (`start` itself not counted, whatever it is):
    a discharge on Friday 10 July 2026 plus 2 working days is Wednesday 15 July (Monday 13 is
    the first, Tuesday 14 is the national holiday)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, subdivision):
            counted += 1
    return day
