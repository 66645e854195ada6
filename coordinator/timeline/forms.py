"""The timeline's filters (a GET form: no CSRF, nothing is written)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, ValidationError
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from coordinator.core.forms import DateField
from coordinator.timeline.labels import KIND_LABELS
from coordinator.timeline.services import KINDS


class TimelineFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectMultipleField(_l("Show"), choices=[(kind.value, KIND_LABELS[kind])
                                                    for kind in KINDS],
                               widget=ListWidget(prefix_label=False),
                               option_widget=CheckboxInput(), validators=[Optional()])
    start = DateField(_l("From"), validators=[Optional()],
                      description=_l("Empty: since the first entry."))
    end = DateField(_l("To"), validators=[Optional()],
                    description=_l("Empty: what is to come included."))

    def validate_end(self, field: DateField) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the period is before its start."))
