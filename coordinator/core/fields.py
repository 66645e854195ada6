"""marshmallow fields within the bounds of `core/bounds.py`, for the API's input schemas:
integers the database holds, ids from 1, dates between 1900 and 2100 (documented in the
OpenAPI description through their Range validator where OpenAPI can say it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from coordinator.core import bounds

RANGE_MESSAGE = _l("Give a number from {min} to {max}.")


def _with(validate: Any, extra: Any) -> list:
    if validate is None:
        return [extra]
    return [*validate, extra] if isinstance(validate, list | tuple) else [validate, extra]


class Integer(ma.fields.Integer):
    """A whole number an INTEGER column holds, narrowed by `minimum`/`maximum`."""

    def __init__(self, *, minimum: int = bounds.INT_MIN, maximum: int = bounds.INT_MAX,
                 **kwargs: Any) -> None:
        kwargs["validate"] = _with(kwargs.get("validate"),
                                   ma.validate.Range(min=minimum, max=maximum,
                                                     error=RANGE_MESSAGE))
        super().__init__(**kwargs)


class Id(Integer):
    """The id of a record: 1 to the largest id the database holds."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(minimum=1, maximum=bounds.MAX_ID, **kwargs)


class Boolean(ma.fields.Boolean):
    """A JSON boolean: true or false, not 1, 0 or "yes" (the description says boolean)."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> bool:
        if not isinstance(value, bool):  # 1 == True and 0 == False: a set would take them
            raise self.make_error("invalid", input=value)
        return value


def _in_range(parsed: Any) -> Any:
    """Refuse a date (or date-time) outside 1900 to 2100, after parsing."""
    problem = bounds.date_problem(parsed)
    if problem:
        raise ma.ValidationError(str(problem))
    return parsed


class Date(ma.fields.Date):
    """A date (`YYYY-MM-DD`) between 1900-01-01 and 2100-12-31."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> dt.date:
        return _in_range(super()._deserialize(value, attr, data, **kwargs))


class DateTime(ma.fields.DateTime):
    """A date-time (ISO 8601) on a day between 1900-01-01 and 2100-12-31."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> dt.datetime:
        return _in_range(super()._deserialize(value, attr, data, **kwargs))
