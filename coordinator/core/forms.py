"""Forms of the application shell."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English")]


class LanguageForm(FlaskForm):
    locale = SelectField(choices=LANGUAGE_CHOICES)
    next = HiddenField()
