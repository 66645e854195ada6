"""Scheduling forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from coordinator.core.forms import DateField, DateTimeLocalField, IntegerField, optional_int
from coordinator.scheduling.labels import KIND_LABELS, REASON_LABELS, STATUS_LABELS

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
NON_WORKING_DAY = _l("Book on a weekend or public holiday")
NON_WORKING_DAY_HELP = _l("Weekends and French public holidays are refused unless you tick "
                          "this box.")


def _non_working_day() -> BooleanField:
    """The confirmation that a day chosen by hand may be a weekend or a public holiday."""
    return BooleanField(NON_WORKING_DAY, description=NON_WORKING_DAY_HELP)


class AppointmentForm(FlaskForm):
    provider_id = SelectField(_l("Provider"), coerce=optional_int, validate_choice=False,
                              validators=[InputRequired()])
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    starts_at = DateTimeLocalField(_l("Start (Paris time)"), format=LOCAL_FORMATS,
                                   validators=[DataRequired()])
    duration_minutes = IntegerField(_l("Duration (minutes)"), default=30,
                                    validators=[InputRequired()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)],
                          render_kw={"rows": 2})
    overlap_reason = StringField(_l("Reason to keep the overlap"),
                                 validators=[Optional(), Length(max=500)])
    allow_non_working_day = _non_working_day()


class SeriesSourceForm(Form):
    """What to generate the series from, and from when (a GET form: the preview)."""

    source = SelectField(_l("From"), validate_choice=False)
    start = DateField(_l("First day"), validators=[DataRequired()])


class ProposalForm(Form):
    keep = BooleanField(_l("Book"), default=True)
    provider_kind = HiddenField()
    label = HiddenField()
    kind = HiddenField()
    action_id = HiddenField(filters=[optional_int])
    duration_minutes = HiddenField(filters=[optional_int])
    starts_at = DateTimeLocalField(_l("Date and time"), format=LOCAL_FORMATS,
                                   validators=[Optional()])


class SeriesForm(FlaskForm):
    rows = FieldList(FormField(ProposalForm), max_entries=400)
    round_label = StringField(_l("Name of the follow-up round"),
                              validators=[DataRequired(), Length(max=200)])
    overlap_reason = StringField(_l("Reason to keep the overlaps"),
                                 validators=[Optional(), Length(max=500)])
    allow_non_working_day = _non_working_day()


class OutcomeForm(FlaskForm):
    status = SelectField(_l("Outcome"), choices=list(STATUS_LABELS.items())[1:])
    version = HiddenField()


class RescheduleForm(FlaskForm):
    starts_at = DateTimeLocalField(_l("New date and time (Paris)"), format=LOCAL_FORMATS,
                                   validators=[DataRequired()])
    cancelled_by = SelectField(_l("Cancelled by"),
                               choices=[("patient", _l("The patient")),
                                        ("provider", _l("The provider"))])
    overlap_reason = StringField(_l("Reason to keep the overlap"),
                                 validators=[Optional(), Length(max=500)])
    allow_non_working_day = _non_working_day()
    version = HiddenField()


class OutreachForm(FlaskForm):
    reason = SelectField(_l("Why the appointment was missed"),
                         choices=list(REASON_LABELS.items()))
    note = TextAreaField(_l("What was said"), validators=[Optional(), Length(max=2000)],
                         render_kw={"rows": 2})


class RebookForm(FlaskForm):
    starts_at = DateTimeLocalField(_l("New date and time (Paris)"), format=LOCAL_FORMATS,
                                   validators=[DataRequired()])
    overlap_reason = StringField(_l("Reason to keep the overlap"),
                                 validators=[Optional(), Length(max=500)])
    allow_non_working_day = _non_working_day()


class DayOutcomesForm(FlaskForm):
    """One select per appointment of the day, named outcome-<id>; empty means unchanged."""


class MoveRoundForm(FlaskForm):
    days = IntegerField(_l("Move by (days)"), validators=[InputRequired(),
                                                          NumberRange(-365, 365)])
    overlap_reason = StringField(_l("Reason to keep the overlaps"),
                                 validators=[Optional(), Length(max=500)])
    allow_non_working_day = _non_working_day()
