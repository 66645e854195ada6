"""JSON views of a task, the filters of the task list, and the body that closes a task.

Dates (`window_start`, `due_on`) are Europe/Paris days; instants are answered in UTC. The
write schema only parses and shapes the input; `coordinator.tasks.services.close_task` checks
every rule, and the API answers its messages with these field names.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from coordinator.core import fields
from coordinator.core.time import local_today
from coordinator.tasks.models import (
    ContactChannel,
    ContactOutcome,
    TaskKind,
    TaskResolution,
    TaskStatus,
)
from coordinator.tasks.services import CLOSING, NOTE_MAX

KINDS = [kind.value for kind in TaskKind]
STATUSES = [status.value for status in TaskStatus]
RESOLUTIONS = [resolution.value for resolution in TaskResolution]


def _enum(values: list[str], description: str, **kwargs) -> ma.fields.String:
    return ma.fields.String(metadata={"enum": values, "description": description}, **kwargs)


def _nullable_enum(values: list[str], description: str) -> ma.fields.String:
    return ma.fields.String(allow_none=True, required=True,
                            metadata={"enum": values, "description": description})


class TaskContactSchema(ma.Schema):
    """The contact that resolved the task."""

    id = ma.fields.Integer(required=True)
    occurred_at = ma.fields.DateTime(required=True, metadata={"description": "UTC instant."})
    channel = _enum([c.value for c in ContactChannel], "How the patient was contacted.",
                    required=True)
    outcome = _enum([o.value for o in ContactOutcome],
                    "What came of it: any recorded contact resolves a contact task, whatever "
                    "its outcome (the attempt was made); the outcome is kept here.",
                    required=True)


class TaskSchema(ma.Schema):
    """A task of a case manager: what is due, by when, and what resolved it."""

    id = ma.fields.Integer(required=True)
    kind = _enum(KINDS, "discharge_contact: call the patient within 2 working days of a "
                        "discharge (French public holidays excluded); discharge_visit: a "
                        "follow-up visit within 7 days (LACE >= 10) or 14 days.",
                 required=True)
    patient_id = ma.fields.Integer(required=True)
    assignee_id = ma.fields.Integer(allow_none=True, required=True,
                                    metadata={"description": "The user (case manager) it is "
                                                             "assigned to."})
    stay_id = ma.fields.Integer(allow_none=True, required=True,
                                metadata={"description": "The hospital stay it follows."})
    lace_score = ma.fields.Function(
        lambda task: task.stay.lace_score if task.stay is not None else None,
        allow_none=True, required=True,
        metadata={"type": "integer", "description": "The LACE readmission score of its stay "
                                                    "(0-19; null while unknown)."})
    window_start = ma.fields.Date(required=True, metadata={
        "description": "From this Paris day, a contact or an attended appointment counts."})
    due_on = ma.fields.Date(required=True, metadata={
        "description": "The last Paris day to do it; overdue the day after."})
    overdue = ma.fields.Function(
        lambda task: task.status == TaskStatus.OPEN and task.due_on < local_today(),
        required=True, metadata={"type": "boolean", "description": "Open and past its due date."})
    status = _enum(STATUSES, "open; done (resolved by what it asked for, or by hand); "
                             "cancelled (no longer needed).", required=True)
    resolution = _nullable_enum(RESOLUTIONS, "What closed it (null while open).")
    resolved_at = ma.fields.DateTime(allow_none=True, required=True, metadata={
        "description": "When it was done (the contact's or the appointment's time), or closed "
                       "(UTC)."})
    resolved_by = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "Who recorded what closed it (an e-mail), or `protocol`."})
    contact_id = ma.fields.Integer(allow_none=True, required=True)
    contact = ma.fields.Nested(TaskContactSchema, allow_none=True, required=True)
    appointment_id = ma.fields.Integer(allow_none=True, required=True, metadata={
        "description": "The attended appointment that resolved it."})
    note = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "Why it was closed by hand."})
    created_at = ma.fields.DateTime(required=True)
    version = ma.fields.Integer(required=True,
                                metadata={"description": "Incremented by every change."})


class TaskListArgsSchema(ma.Schema):
    status = ma.fields.String(
        validate=ma.validate.OneOf(STATUSES, error=_l("Choose open, done or cancelled.")),
        metadata={"enum": STATUSES})
    kind = ma.fields.String(
        validate=ma.validate.OneOf(KINDS, error=_l("Choose discharge_contact or "
                                                   "discharge_visit.")),
        metadata={"enum": KINDS})
    assignee = fields.Id(metadata={"description": "The id of the user it is assigned to."})
    patient = fields.Id(metadata={"description": "Patient id."})
    overdue = ma.fields.Boolean(metadata={"description": "true: open tasks past their due "
                                                         "date; false: the others."})


class TaskCloseSchema(ma.Schema):
    """Close an open task by hand: done (dealt with another way) or cancelled (no longer
    needed), with a note saying why."""

    status = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf([s.value for s in CLOSING],
                                   error=_l("Choose done or cancelled.")),
        metadata={"enum": [s.value for s in CLOSING]})
    note = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=1, max=NOTE_MAX,
                                     error=_l("From {min} to {max} characters.")),
                  # Not only spaces (a JSON Schema pattern matches anywhere in the text).
                  ma.validate.Regexp(r"[\s\S]*\S", error=_l("Write a note saying why."))],
        metadata={"description": "Why it is closed (not only spaces)."})
