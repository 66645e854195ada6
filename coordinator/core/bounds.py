"""The bounds of what any input may hold, written once: integers the database can store, text
without NUL characters or lone surrogates, dates between 1900 and 2100.

Every way in applies them: the URL converters and request hooks (`core/hooks.py`) to paths,
query strings, form and JSON bodies; the marshmallow fields of `core/fields.py` (API), the
WTForms fields of `core/forms.py` (pages) and the import's cell parsers. Domain rules narrower
than these (no appointment before the patient's birth, bookings at most two years ahead) live
with their domain (`scheduling/rules.py`). Each check answers the message of the bound broken,
or None.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter, Map

# The INTEGER columns of PostgreSQL (ids included) hold 32-bit signed numbers.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
MAX_ID = INT_MAX
MAX_PAGE = 1_000_000  # far past any list; keeps OFFSET small

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)

# The path and query string of a request (browsers and proxies allow a few thousand).
MAX_URL_CHARS = 4096

# JSON bodies of the API (pages post forms; imports upload files, with their own limits).
MAX_JSON_DEPTH = 16
MAX_JSON_BYTES = 1024 * 1024

_FORBIDDEN_CHARACTERS = re.compile("[\x00\ud800-\udfff]")

NUL_OR_SURROGATE = _l("This text holds a character that cannot be stored (a NUL character or a "
                      "lone surrogate): remove it.")


def text_problem(value: Any) -> Any:
    """Text the databases can store: no NUL character (PostgreSQL refuses it) and no lone
    surrogate (not encodable as UTF-8)."""
    if isinstance(value, str) and _FORBIDDEN_CHARACTERS.search(value):
        return NUL_OR_SURROGATE
    return None


def int_problem(value: Any, minimum: int = INT_MIN, maximum: int = INT_MAX) -> Any:
    """A whole number that an INTEGER column holds (narrowed by `minimum`/`maximum`)."""
    if isinstance(value, int) and not isinstance(value, bool) and \
            not minimum <= value <= maximum:
        return _l("Give a number from %(min)s to %(max)s.", min=minimum, max=maximum)
    return None


def date_problem(value: date | datetime | None) -> Any:
    """A date (or the day of a date-time) between 1900-01-01 and 2100-12-31."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    if not MIN_DATE <= day <= MAX_DATE:
        return _l("Give a date between %(min)s and %(max)s.", min=MIN_DATE.isoformat(),
                  max=MAX_DATE.isoformat())
    return None


def json_depth_exceeds(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests objects and arrays deeper than `limit` (iteratively)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children: Any
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def forbidden_text_in(data: Any, path: str = "") -> str | None:
    """The dotted path (`goals.0.description`) of the first string of parsed JSON, key or
    value, that `text_problem` refuses; None when there is none."""
    stack = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if text_problem(value):
                return where or "_request"
        elif isinstance(value, dict):
            for key, child in value.items():
                name = f"{where}.{key}" if where else str(key)
                if text_problem(key):
                    return where or "_request"
                stack.append((child, name))
        elif isinstance(value, list):
            stack.extend((child, f"{where}.{index}" if where else str(index))
                         for index, child in enumerate(value))
    return None


class IdConverter(IntegerConverter):
    """`<int:...>` in URLs: 1 to the largest id the database holds; anything else is no
    record (404) before a query is sent."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
