"""The audit trail's filter form (GET: no CSRF token, nothing is changed)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import NumberRange, Optional

from coordinator.audit.labels import ACTION_LABELS
from coordinator.audit.models import AuditAction
from coordinator.core.bounds import MAX_ID
from coordinator.core.forms import DateField, IntegerField


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    actor = StringField(_l("User"), validators=[Optional()])
    action = SelectField(_l("Action"),
                         choices=[("", "—")] + [(a, ACTION_LABELS[a]) for a in AuditAction.ALL],
                         validators=[Optional()])
    entity_type = StringField(_l("Record type"), validators=[Optional()])
    patient_id = IntegerField(_l("Patient number"),
                              validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
