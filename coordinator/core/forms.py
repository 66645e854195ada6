"""Forms of the application shell, and small form helpers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English")]


def optional_int(value: str | int | None) -> int | None:
    """Coerce a select's value to an id, the empty choice to None."""
    if value in (None, "", "None"):
        return None
    return int(value)


class WorklistFilterForm(FlaskForm):
    class Meta:
        csrf = False

    program_id = SelectField(_l("Program"), coerce=optional_int, validate_choice=False)
    stratum_id = SelectField(_l("Stratum"), coerce=optional_int, validate_choice=False)


class LanguageForm(FlaskForm):
    locale = SelectField(choices=LANGUAGE_CHOICES)
    next = HiddenField()
