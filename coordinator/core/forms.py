"""Forms of the application shell, and small form helpers."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, fields
from wtforms.form import BaseForm
from wtforms.validators import StopValidation

from coordinator.core.bounds import MAX_ID, date_problem, int_problem

LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English")]


def optional_int(value: str | int | None) -> int | None:
    """Coerce a select's value to an id, the empty choice to None."""
    if value in (None, "", "None"):
        return None
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(value)  # no such record: the choice is invalid
    return number


def _refuse_out_of_range(field: fields.Field, problem: Any) -> None:
    if problem:
        field.data = None
        raise StopValidation(str(problem))


class DateField(fields.DateField):
    """WTForms' DateField, between 1900-01-01 and 2100-12-31 (`core/bounds.py`)."""

    def pre_validate(self, form: BaseForm) -> None:
        _refuse_out_of_range(self, date_problem(self.data))


class DateTimeLocalField(fields.DateTimeLocalField):
    """WTForms' DateTimeLocalField, on a day between 1900-01-01 and 2100-12-31."""

    def pre_validate(self, form: BaseForm) -> None:
        _refuse_out_of_range(self, date_problem(self.data))


class WorklistFilterForm(FlaskForm):
    class Meta:
        csrf = False

    program_id = SelectField(_l("Program"), coerce=optional_int, validate_choice=False)
    stratum_id = SelectField(_l("Stratum"), coerce=optional_int, validate_choice=False)


class LanguageForm(FlaskForm):
    locale = SelectField(choices=LANGUAGE_CHOICES)
    next = HiddenField()


class IntegerField(fields.IntegerField):
    """WTForms' IntegerField, within the integers the database holds."""

    def pre_validate(self, form: BaseForm) -> None:
        _refuse_out_of_range(self, int_problem(self.data))
