"""Forms of tasks, contacts and alerts (the service checks every rule again)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from coordinator.core.forms import DateTimeLocalField, optional_int
from coordinator.tasks.labels import CHANNEL_LABELS, OUTCOME_LABELS
from coordinator.tasks.models import AlertKind, TaskStatus
from coordinator.tasks.services import NOTE_MAX

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class ContactForm(FlaskForm):
    occurred_at = DateTimeLocalField(_l("When (Paris time)"), format=LOCAL_FORMATS,
                                     validators=[DataRequired()])
    channel = SelectField(_l("How"), choices=list(CHANNEL_LABELS.items()))
    outcome = RadioField(_l("Outcome"), choices=list(OUTCOME_LABELS.items()),
                         validators=[InputRequired(_l("Choose the outcome."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)],
                         render_kw={"rows": 3})
    task_id = HiddenField(filters=[optional_int])


class CloseTaskForm(FlaskForm):
    status = SelectField(_l("Close as"),
                         choices=[(TaskStatus.DONE.value, _l("Done (another way)")),
                                  (TaskStatus.CANCELLED.value, _l("No longer needed"))])
    note = TextAreaField(_l("Why"), validators=[DataRequired(_l("Write a note saying why.")),
                                                Length(max=NOTE_MAX)],
                         render_kw={"rows": 2})
    version = HiddenField()


class AcknowledgeForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired(), AnyOf([kind.value for kind in AlertKind])])
    stay_id = HiddenField(filters=[optional_int], validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])
