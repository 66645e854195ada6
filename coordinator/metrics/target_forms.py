"""The form of the targets page: one row per program by indicator, its target in the territory
(blank: the program's target)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField
from wtforms.validators import Optional

from coordinator.strata.forms import PercentField

MAX_ROWS = 500  # far more indicators than any registry has: a hostile list stops here


class TargetRowForm(FlaskForm):
    class Meta:
        csrf = False

    program = HiddenField()
    indicator = HiddenField()
    target_percent = PercentField(_l("Target of the territory (%)"), validators=[Optional()])


class TargetsForm(FlaskForm):
    targets = FieldList(FormField(TargetRowForm), max_entries=MAX_ROWS)
