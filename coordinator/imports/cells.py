"""Cell parsers of the import formats: each turns one non-empty, stripped cell into a value or
raises `CellError` with a message for the report. Empty cells never reach a parser."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from coordinator.core.bounds import date_problem, text_problem
from coordinator.core.time import NonexistentLocalTime, as_utc

Parser = Callable[[str], object]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FRENCH_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?")


class CellError(ValueError):
    """A cell that does not hold a value of its column's type."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def check_text(cell: str) -> None:
    """Any cell: no NUL character (the databases cannot store it); the engine applies it to
    every cell before the column's parser."""
    problem = text_problem(cell)
    if problem:
        raise CellError(problem)


def _in_range(value: date | datetime) -> date | datetime:
    problem = date_problem(value)
    if problem:
        raise CellError(problem)
    return value


def text(max_length: int | None = None) -> Parser:
    """Free text, at most `max_length` characters (the width of the database column)."""

    def parse(cell: str) -> str:
        if max_length is not None and len(cell) > max_length:
            raise CellError(_l("Too long: at most %(n)d characters.", n=max_length))
        return cell

    return parse


def text_for(column) -> Parser:
    """Free text as wide as the model attribute's column (e.g. `Patient.city`)."""
    return text(getattr(column.type, "length", None))


def upper_text(max_length: int | None = None) -> Parser:
    inner = text(max_length)
    return lambda cell: inner(cell.upper())


def choice(values: tuple[str, ...]) -> Parser:
    """One of a fixed list of codes (compared as written, after stripping)."""
    allowed = frozenset(values)
    listed = ", ".join(values)

    def parse(cell: str) -> str:
        if cell not in allowed:
            raise CellError(_l("“%(value)s” is not one of: %(values)s.", value=cell[:40],
                               values=listed))
        return cell

    parse.allowed = tuple(values)  # type: ignore[attr-defined]  # shown by the Imports page
    return parse


def yes_no(cell: str) -> bool:
    value = cell.lower()
    if value == "yes":
        return True
    if value == "no":
        return False
    raise CellError(_l("Write yes or no."))


yes_no.allowed = ("yes", "no")  # type: ignore[attr-defined]


def parse_date(cell: str) -> date:
    """`YYYY-MM-DD`, or `DD/MM/YYYY` as French spreadsheets write it, from 1900 to 2100."""
    value: date | None = None
    try:
        if _ISO_DATE.fullmatch(cell):
            value = date.fromisoformat(cell)
        elif match := _FRENCH_DATE.fullmatch(cell):
            day, month, year = match.groups()
            value = date(int(year), int(month), int(day))
    except ValueError:
        raise CellError(_l("“%(value)s” is not a valid date.", value=cell[:40])) from None
    if value is None:
        raise CellError(_l("“%(value)s” is not a date: write YYYY-MM-DD or DD/MM/YYYY.",
                           value=cell[:40]))
    return _in_range(value)


def parse_datetime(cell: str) -> datetime:
    """ISO 8601 with or without seconds and offset, as an aware UTC instant; without an offset
    the time is Europe/Paris local time (summer or winter time as it was on that day)."""
    if not _ISO_DATETIME.fullmatch(cell):
        raise CellError(_l("“%(value)s” is not a date-time: write YYYY-MM-DDTHH:MM, optionally "
                           "with seconds and a UTC offset.", value=cell[:40]))
    try:
        moment = datetime.fromisoformat(cell)
    except ValueError:
        raise CellError(_l("“%(value)s” is not a valid date-time.", value=cell[:40])) from None
    _in_range(moment)
    try:
        return as_utc(moment)
    except NonexistentLocalTime:
        raise CellError(_l("%(value)s does not exist in Paris local time (the clocks go "
                           "forward): give the UTC offset.", value=cell[:40])) from None


def parse_date_or_datetime(cell: str) -> date | datetime:
    """A date alone (`2026-06-01`, `01/06/2026`) or a date-time: whichever the cell holds."""
    if len(cell) == 10:
        return parse_date(cell)
    return parse_datetime(cell)


def integer(minimum: int | None = None, maximum: int | None = None) -> Parser:
    def parse(cell: str) -> int:
        try:
            value = int(cell)
        except ValueError:
            raise CellError(_l("“%(value)s” is not a whole number.", value=cell[:40])) from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise CellError(_l("Out of range: from %(min)s to %(max)s.",
                               min=minimum if minimum is not None else "…",
                               max=maximum if maximum is not None else "…"))
        return value

    return parse


def decimal(cell: str) -> Decimal:
    """A number; the decimal comma of French spreadsheets is accepted."""
    try:
        value = Decimal(cell.replace(",", "."))
    except InvalidOperation:
        raise CellError(_l("“%(value)s” is not a number.", value=cell[:40])) from None
    if not value.is_finite():
        raise CellError(_l("“%(value)s” is not a number.", value=cell[:40]))
    return value
