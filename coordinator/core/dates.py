"""Dates and times as the reader reads them, one format everywhere (issue #16): the reader's
language through Babel, four-digit years, a 24-hour time (`08:30`), Paris time, never a time
zone name.

- English is read as in the United Kingdom (`16/11/1954`, `16 Nov 1954`, `08:30`): the
  registry's readers are in France, and Babel's plain `en` is the United States' (`11/16/54`,
  `8:30 AM`).
- A date-time is its date in the asked format followed by the time: `16/11/1954 08:30`,
  `lundi 16 novembre 1954 08:30` (Babel's own date-time formats add a time zone name in
  `full` and seconds in `medium`).
- A naive date-time is UTC (as stored), as Flask-Babel reads it.

Templates reach these through the `date`, `datetime` and `time` filters (`templating`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel import Locale
from babel import dates as babel_dates
from flask_babel import get_locale

from coordinator.core.time import PARIS

TIME = "HH:mm"
WIDTHS = ("short", "medium", "long", "full")


def reading_locale(locale: Locale | str | None = None) -> Locale:
    """The Babel locale dates are written in: the given one or the request's, English as
    in the United Kingdom."""
    if locale is None:
        locale = get_locale() or Locale.parse("fr")
    parsed = Locale.parse(str(locale))
    if parsed.language == "en" and not parsed.territory:
        return Locale("en", "GB")
    return parsed


def in_paris(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS)


def format_date(value: date | datetime, format: str = "medium",
                locale: Locale | str | None = None) -> str:
    """A day (a date-time: its Paris day) in a width (`short`, `medium`, `long`, `full`) or a
    CLDR pattern."""
    if isinstance(value, datetime):
        value = in_paris(value).date()
    return babel_dates.format_date(value, format, locale=reading_locale(locale))


def format_time(value: datetime, format: str = "short",
                locale: Locale | str | None = None) -> str:
    """The Paris time of day: `08:30` whatever the width; a CLDR pattern as asked."""
    pattern = TIME if format in WIDTHS else format
    return babel_dates.format_time(in_paris(value), pattern, locale=reading_locale(locale))


def format_datetime(value: datetime, format: str = "medium",
                    locale: Locale | str | None = None) -> str:
    """The Paris day in a width, then the time (`08:30`); a CLDR pattern as asked."""
    local = in_paris(value)
    if format not in WIDTHS:
        return babel_dates.format_datetime(local, format, tzinfo=PARIS,
                                           locale=reading_locale(locale))
    return f"{format_date(local.date(), format, locale)} {format_time(local, 'short', locale)}"
