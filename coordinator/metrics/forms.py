"""The dashboard's selection form (GET: no CSRF token, nothing is changed).

A period is a month, a quarter or a year (chosen by its number and year), or custom (`from`,
`to`); then a territory, a program, a stratum, and for a case manager their own caseload. The
codes are not checked here: `services.select_figures` knows them and names the wrong one, as it
does for the API.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import get_month_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import NumberRange, Optional

from coordinator.core.forms import DateField, IntegerField
from coordinator.metrics.periods import add_months, month_end

PERIOD_KINDS = (("month", _l("Month")), ("quarter", _l("Quarter")), ("year", _l("Year")),
                ("custom", _l("Custom (from, to)")))


def last_month(today: date) -> date:
    """The first day of the last whole month before `today`: the page's default period."""
    return add_months(today.replace(day=1), -1)


class DashboardForm(FlaskForm):
    class Meta:
        csrf = False

    period = SelectField(_l("Period"), choices=PERIOD_KINDS, default="month")
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=1900, max=2100)])
    month = SelectField(_l("Month"), coerce=int, choices=[(n, str(n)) for n in range(1, 13)],
                        validators=[Optional()])
    quarter = SelectField(_l("Quarter"), coerce=int,
                          choices=[(n, f"T{n}") for n in range(1, 5)], validators=[Optional()])
    territory = SelectField(_l("Territory"), validate_choice=False)
    program = SelectField(_l("Program"), validate_choice=False)
    stratum = SelectField(_l("Stratum"), validate_choice=False)
    caseload = BooleanField(_l("My caseload only"))

    def __init__(self, formdata: Any, today: date, **kwargs: Any) -> None:
        start = last_month(today)
        super().__init__(formdata, year=start.year, month=start.month,
                         quarter=(start.month - 1) // 3 + 1, **kwargs)
        names = get_month_names("wide", locale=get_locale() or "fr")
        self.month.choices = [(n, names[n].capitalize()) for n in range(1, 13)]
        self.quarter.choices = [(n, str(_l("Quarter %(n)d", n=n))) for n in range(1, 5)]

    @property
    def first_field(self) -> Any:
        return self["from"]

    @property
    def last_field(self) -> Any:
        return self["to"]

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.period.data == "custom":
            for name, message in (("from", _l("Give the first day of the period.")),
                                  ("to", _l("Give the last day of the period."))):
                if self[name].data is None and not self[name].errors:
                    self[name].errors = [*self[name].errors, message]
                    valid = False
        elif self.year.data is None and not self.year.errors:
            self.year.errors = [*self.year.errors, _l("Give the year of the period.")]
            valid = False
        return valid

    def bounds(self) -> tuple[date | None, date | None]:
        """The first and last day asked (after `validate`)."""
        kind, year = self.period.data, self.year.data
        if kind == "custom":
            return self["from"].data, self["to"].data
        if year is None:
            return None, None
        if kind == "year":
            return date(year, 1, 1), date(year, 12, 31)
        if kind == "quarter":
            first = date(year, 3 * ((self.quarter.data or 1) - 1) + 1, 1)
            return first, month_end(add_months(first, 2))
        first = date(year, self.month.data or 1, 1)
        return first, month_end(first)

    def errors_by_parameter(self, problems: dict[str, list]) -> None:
        """Show the service's problems (`from`, `to`, `territory`, ...) on their fields; a
        problem of a month, quarter or year's bounds on the field of its year."""
        for name, messages in problems.items():
            field = name
            if name in ("from", "to") and self.period.data != "custom":
                field = "year"
            if field not in self:
                field = "period"
            self[field].errors = [*self[field].errors, *messages]


# `from` and `to` are Python keywords: the fields are added by name, as the API names them.
setattr(DashboardForm, "from", DateField(_l("From"), validators=[Optional()]))
setattr(DashboardForm, "to", DateField(_l("To"), validators=[Optional()]))  # noqa: B010

__all__ = ["DashboardForm", "last_month"]
