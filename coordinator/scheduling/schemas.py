"""JSON views of an appointment, and the bodies that book one and record its outcome.

Instants are answered in UTC (`2026-07-01T07:00:00+00:00`). A date-time sent without an offset
is Europe/Paris local time, summer or winter time as it is that day: a time skipped when the
clocks go forward is refused, a repeated one (clocks go back) is its first occurrence. The write
schemas only parse and shape the input; every rule of an appointment is checked by
`coordinator.scheduling.services`, whose messages the API answers with these field names.
"""

from __future__ import annotations

from datetime import date, datetime

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from coordinator.core import bounds, fields
from coordinator.scheduling.models import (
    APPOINTMENT_KINDS,
    MAX_MINUTES,
    NO_SHOW_REASONS,
    OUTCOMES,
    STATUSES,
    AppointmentKind,
)

TOO_LONG = _l("At most {max} characters.")
PARIS_TIME = "Without a UTC offset the time is Europe/Paris local time."
INVALID_DATETIME = _l("Not a valid date-time: use ISO 8601, e.g. 2026-03-01T14:30 (without an "
                      "offset: Paris time).")


def _text(max_length: int | None = None, **kwargs) -> ma.fields.String:
    validate = ma.validate.Length(max=max_length, error=TOO_LONG) if max_length else None
    return ma.fields.String(allow_none=True, validate=validate, **kwargs)


def _choice(values: tuple[str, ...], message, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.OneOf(values, error=message),
                            metadata={"enum": list(values), **kwargs.pop("metadata", {})},
                            **kwargs)


def _datetime(description: str, **kwargs) -> ma.fields.DateTime:
    return fields.DateTime(error_messages={"invalid": INVALID_DATETIME},
                              metadata={"description": description}, **kwargs)


class DateOrDateTime(ma.fields.String):
    """A date (`2026-07-01`) or a date-time (`2026-07-01T09:00`, offset optional)."""

    default_error_messages = {"invalid": _l("Not a valid date or date-time: use YYYY-MM-DD or "
                                            "ISO 8601, e.g. 2026-03-01T14:30.")}

    def _deserialize(self, value, attr, data, **kwargs) -> date | datetime:
        cell = super()._deserialize(value, attr, data, **kwargs).strip()
        parsed: date | datetime | None = None
        try:
            if len(cell) == 10:
                parsed = date.fromisoformat(cell)
            elif "T" in cell or " " in cell:
                parsed = datetime.fromisoformat(cell)
        except ValueError:
            pass
        if parsed is None:
            raise self.make_error("invalid")
        problem = bounds.date_problem(parsed)
        if problem:
            raise ma.ValidationError(str(problem))
        return parsed


# -- Reading -----------------------------------------------------------------------------------

class AppointmentSchema(ma.Schema):
    """An appointment: who, with whom, when (UTC instants), and its outcome."""

    id = ma.fields.Integer()
    external_id = ma.fields.String(allow_none=True,
                                   metadata={"description": "Its id in the source of an import."})
    patient_id = ma.fields.Integer()
    provider_id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": list(APPOINTMENT_KINDS)})
    starts_at = ma.fields.DateTime(metadata={"description": "UTC instant."})
    ends_at = ma.fields.DateTime(metadata={"description": "UTC instant."})
    duration_minutes = ma.fields.Integer()
    place = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    action_id = ma.fields.Integer(allow_none=True,
                                  metadata={"description": "The care-plan action it serves."})
    round_id = ma.fields.Integer(allow_none=True,
                                 metadata={"description": "The follow-up round it belongs to."})
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    outcome_recorded_at = ma.fields.DateTime(allow_none=True)
    outcome_recorded_by = ma.fields.String(allow_none=True)
    rescheduled_to_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "The appointment booked in its place."})
    no_show_reason = ma.fields.String(allow_none=True, metadata={"enum": list(NO_SHOW_REASONS)})
    consecutive_no_shows = ma.fields.Integer(
        dump_only=True, allow_none=True,
        metadata={"description": "The patient's no-shows in a row as of this appointment, "
                                 "counted when its outcome is recorded (attended: 0; "
                                 "cancelled: the count before it); null while scheduled."})
    overlap_reason = ma.fields.String(
        allow_none=True, metadata={"description": "Why it was booked although it overlaps."})
    version = ma.fields.Integer(metadata={"description": "Incremented by every change."})


class OverlapSchema(ma.Schema):
    """An appointment of the same patient or provider holding an overlapping slot; its patient
    only when the caller may open that patient's record."""

    id = ma.fields.Integer(allow_none=True)
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    patient_id = ma.fields.Integer(allow_none=True)
    provider_id = ma.fields.Integer()


class OverlapConflictSchema(ma.Schema):
    """409: the appointment overlaps others; send `overlap_reason` to book it anyway."""

    errors = ma.fields.Dict(keys=ma.fields.String(),
                            values=ma.fields.List(ma.fields.String()), required=True)
    overlaps = ma.fields.List(ma.fields.Nested(OverlapSchema), required=True)


class TransitionConflictSchema(ma.Schema):
    """409: the status cannot go there from the current one; `allowed` lists where it can."""

    errors = ma.fields.Dict(keys=ma.fields.String(),
                            values=ma.fields.List(ma.fields.String()), required=True)
    allowed = ma.fields.List(ma.fields.String(), required=True)


# -- Writing -----------------------------------------------------------------------------------

class AppointmentCreateSchema(ma.Schema):
    """A new appointment: its length as `duration_minutes` (default 30) or as `ends_at`."""

    patient_id = fields.Id(required=True)
    provider_id = fields.Id(required=True,
                                    metadata={"description": "An active provider."})
    kind = _choice(APPOINTMENT_KINDS, _l("Choose a consultation, a home visit, a "
                                         "teleconsultation or a group session."),
                   load_default=AppointmentKind.CONSULTATION)
    starts_at = _datetime(PARIS_TIME, required=True)
    duration_minutes = fields.Integer(
        metadata={"description": f"1 to {MAX_MINUTES} minutes (default 30); or send ends_at."})
    ends_at = _datetime(f"After starts_at, at most {MAX_MINUTES} minutes later. {PARIS_TIME}")
    place = _text(300)
    notes = _text()
    action_id = fields.Id(
        allow_none=True, metadata={"description": "An action of the patient's care plan."})
    overlap_reason = _text(metadata={"description": "Why the appointment is booked although it "
                                                    "overlaps others of the patient or the "
                                                    "provider (without it, the answer is 409)."})
    allow_non_working_day = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "true to book on a weekend or a French public holiday (those "
                                 "of the patient's department included); without it such a "
                                 "day answers 422 on starts_at."})

    @ma.validates_schema
    def _one_length(self, data: dict, **kwargs) -> None:
        """The length is given once: a duration or an end."""
        if data.get("duration_minutes") is not None and data.get("ends_at") is not None:
            raise ma.ValidationError(_l("Send duration_minutes or ends_at, not both."),
                                     "ends_at")


class AppointmentStatusSchema(ma.Schema):
    """The outcome of a scheduled appointment, recorded once."""

    status = _choice(OUTCOMES, _l("Choose attended, no_show, cancelled_patient or "
                                  "cancelled_provider."), required=True)
    no_show_reason = _choice(NO_SHOW_REASONS, _l("Choose a known reason."), allow_none=True,
                             metadata={"description": "With the status no_show only."})
