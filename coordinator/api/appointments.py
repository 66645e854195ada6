"""/api/v1/appointments: follow-up appointments of the patients the caller may open.

An outcome is recorded with `PATCH /api/v1/appointments/<id>/status` (not on the item itself):
once, from `scheduled` only, with the ETag in If-Match.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import marshmallow as ma
from flask import jsonify, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, select

from coordinator.api.common import (
    ETAG_HEADER,
    ApiBlueprint,
    ErrorsSchema,
    PageArgsSchema,
    conditional,
    expected_version,
    list_page,
    page_schema,
    service_errors,
    tagged,
    unprocessable,
)
from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.core import fields
from coordinator.core.time import NonexistentLocalTime, as_utc
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.permissions import (
    AUTHENTICATED,
    PATIENT_STAFF,
    abort_if_hidden,
    can_view_patient,
    patient_scope,
    require,
)
from coordinator.scheduling import services
from coordinator.scheduling.models import STATUSES, Appointment
from coordinator.scheduling.models import AppointmentStatus as Status
from coordinator.scheduling.schemas import (
    AppointmentCreateSchema,
    AppointmentSchema,
    AppointmentStatusSchema,
    DateOrDateTime,
    OverlapConflictSchema,
    OverlapSchema,
    TransitionConflictSchema,
)

blp = ApiBlueprint(
    "api_appointments", __name__, url_prefix="/api/v1/appointments",
    description="Follow-up appointments. Case managers see and book the appointments of the "
                "patients of their territory, administrators all of them; GPs and councils do "
                "not (403 on the list, 404 on a record). Instants are answered in UTC; a "
                "date-time sent without an offset is Europe/Paris local time (a time skipped "
                "when the clocks go forward is refused, a repeated one is its first "
                "occurrence). A booking overlapping another appointment of the patient or the "
                "provider answers 409 with the overlaps unless it gives an `overlap_reason`. "
                "A new booking starts from now on (a past start answers 422 on starts_at: "
                "past visits are recorded by the appointments import); a weekend or a French "
                "public holiday answers 422 on starts_at unless `allow_non_working_day` is true. "
                "The outcome is recorded once, from scheduled, with PATCH "
                "/api/v1/appointments/<id>/status and the ETag in If-Match. Reads, searches "
                "and changes are audited.")

NOT_FOUND = "No such appointment, or the caller may not open its patient."
NONEXISTENT = _l("This time does not exist in Paris (the clocks go forward that night): choose "
                 "another one.")

AppointmentPageSchema = page_schema(AppointmentSchema, "AppointmentPage")


class AppointmentListArgsSchema(PageArgsSchema):
    patient = fields.Id(metadata={"description": "Patient id."})
    provider = fields.Id(metadata={"description": "Provider id."})
    status = ma.fields.String(
        validate=ma.validate.OneOf(STATUSES, error=_l("Choose a known status.")),
        metadata={"enum": list(STATUSES)})
    starts_from = DateOrDateTime(
        data_key="from", metadata={"description": "Appointments starting at or after this date "
                                                  "(from its start, Paris time) or date-time "
                                                  "(without an offset: Paris time)."})
    starts_to = DateOrDateTime(
        data_key="to", metadata={"description": "Appointments starting at or before this "
                                                "date-time, or during or before this date "
                                                "(Paris time)."})


# -- Access ------------------------------------------------------------------------------------

def _visible(appointment_id: int) -> Appointment:
    """The appointment, if the caller may open its patient; 404 otherwise."""
    appointment = db.session.get(Appointment, appointment_id)
    abort_if_hidden(appointment is not None and
                    can_view_patient(current_user, appointment.patient))
    return appointment


def _patient(patient_id: int) -> Patient:
    """The patient of a new appointment, if the caller may open their record; 404 otherwise."""
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(patient is not None and can_view_patient(current_user, patient))
    return patient


# -- Lists -------------------------------------------------------------------------------------

def _bound(value: date | datetime, name: str, next_day: bool = False) -> datetime:
    """A filter bound as a UTC instant: a date is the start of that Paris day (of the next one
    with `next_day`); a date-time without an offset is Paris time (422 when skipped)."""
    if not isinstance(value, datetime):
        value = datetime.combine(value + timedelta(days=1 if next_day else 0), time())
    try:
        return as_utc(value)
    except NonexistentLocalTime:
        unprocessable({name: [NONEXISTENT]})


def list_query(user: User, args: dict) -> Select:
    """The appointments of the patients `user` may open, by start time, filtered by patient,
    provider, status and start (`from` inclusive, `to` inclusive: to the end of a date)."""
    query = select(Appointment).join(Patient, Appointment.patient_id == Patient.id) \
        .where(patient_scope(user))
    for name, column in (("patient", Appointment.patient_id),
                         ("provider", Appointment.provider_id), ("status", Appointment.status)):
        if args.get(name) is not None:
            query = query.where(column == args[name])
    if args.get("starts_from") is not None:
        query = query.where(Appointment.starts_at >= _bound(args["starts_from"], "from"))
    end = args.get("starts_to")
    if isinstance(end, datetime):
        query = query.where(Appointment.starts_at <= _bound(end, "to"))
    elif end is not None:  # a date: up to the end of that day
        query = query.where(Appointment.starts_at < _bound(end, "to", next_day=True))
    return query.order_by(Appointment.starts_at, Appointment.id)


def _audit_search(args: dict, total: int, shown: list[Appointment]) -> None:
    """A list shows patients' appointments: audited with its criteria and result count."""
    criteria = {name: value.isoformat() if isinstance(value, date) else value
                for name, value in (("patient", args.get("patient")),
                                    ("provider", args.get("provider")),
                                    ("status", args.get("status")),
                                    ("from", args.get("starts_from")),
                                    ("to", args.get("starts_to"))) if value is not None}
    audit.record_shown(db.session, current_actor(), "appointment_search",
                       [appointment.patient_id for appointment in shown],
                       summary=f"{total} result(s)", details={"criteria": criteria})


# -- Answers -----------------------------------------------------------------------------------

def _overlap_answer(warning: services.OverlapWarning):
    """409 with the overlapping appointments; their patient only when the caller may open it."""
    rows = []
    for _index, other in warning.overlaps:
        row = OverlapSchema().dump(other)
        if not can_view_patient(current_user, db.session.get(Patient, other.patient_id)):
            row["patient_id"] = None
        rows.append(row)
    response = jsonify({
        "errors": {"overlap_reason": [_("This appointment overlaps another appointment of the "
                                        "patient or the provider. Choose another time, or give "
                                        "a reason to book it anyway.")]},
        "overlaps": rows,
    })
    response.status_code = 409
    return response


def _transition_answer(refused: services.TransitionRefused):
    """409: the outcome cannot be recorded from the current status; where it can go."""
    response = jsonify({
        "errors": {"status": [_("The appointment is %(current)s: it cannot become %(wanted)s "
                                "(an outcome is recorded once, on a scheduled appointment).",
                                current=refused.current, wanted=refused.wanted)]},
        "allowed": refused.allowed,
    })
    response.status_code = 409
    return response


def _renames(data: dict) -> dict[str, str]:
    """The service checks the length as a duration: named `ends_at` when the end was sent."""
    return {"duration_minutes": "ends_at"} if data.get("ends_at") is not None else {}


# -- Resources ---------------------------------------------------------------------------------

@blp.route("")
class Appointments(MethodView):

    @require(PATIENT_STAFF)
    @blp.arguments(AppointmentListArgsSchema, location="query")
    @blp.response(200, AppointmentPageSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid filter or page.")
    def get(self, args):
        """List the appointments of the patients the caller may see (audited)

        By start time. `from` and `to` take a date or a date-time (without an offset: Paris
        time); both are inclusive, `to` up to the end of a date.
        """
        page = list_page(list_query(current_user, args), args)
        _audit_search(args, page.total, page.items)
        db.session.commit()
        return page

    @require(PATIENT_STAFF)
    @blp.arguments(AppointmentCreateSchema)
    @blp.response(201, AppointmentSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema,
                      description="No such patient, or the caller may not open it.")
    @blp.alt_response(409, schema=OverlapConflictSchema,
                      description="It overlaps other appointments and no overlap_reason was "
                                  "given: nothing was written.")
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def post(self, data):
        """Book an appointment

        Its length is `duration_minutes` (default 30) or `ends_at`. A provider must be active,
        a patient alive on that day, a start from now on, on a working day unless
        `allow_non_working_day` is true. An overlap with another appointment of the patient or the
        provider answers 409 with the overlaps: send `overlap_reason` to book it anyway.
        """
        _patient(data["patient_id"])  # 404 when the caller may not open the patient
        reason = data.pop("overlap_reason", None)
        allow_non_working_day = data.pop("allow_non_working_day", False)
        try:
            with service_errors(renames=_renames(data)):
                appointment = services.create_appointment(
                    db.session, current_actor(), data, overlap_reason=reason,
                    allow_non_working_day=allow_non_working_day)
                db.session.commit()
        except services.OverlapWarning as warning:
            answer = _overlap_answer(warning)
            db.session.rollback()
            return answer
        return tagged(appointment, 201,
                      {"Location": url_for(".AppointmentItem", appointment_id=appointment.id)})


@blp.route("/<int:appointment_id>")
class AppointmentItem(MethodView):

    @require(AUTHENTICATED)
    @blp.response(200, AppointmentSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description=NOT_FOUND)
    def get(self, appointment_id):
        """Read an appointment (audited)"""
        appointment = _visible(appointment_id)
        audit.record(db.session, current_actor(), AuditAction.READ, "appointment",
                     appointment.id, patient_id=appointment.patient_id)
        db.session.commit()
        return tagged(appointment)


@blp.route("/<int:appointment_id>/status")
class AppointmentStatus(MethodView):

    @require(PATIENT_STAFF)
    @conditional(blp)
    @blp.arguments(AppointmentStatusSchema)
    @blp.response(200, AppointmentSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description=NOT_FOUND)
    @blp.alt_response(409, schema=TransitionConflictSchema,
                      description="The status cannot go there from the current one: nothing "
                                  "was written; `allowed` lists where it can go.")
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def patch(self, data, appointment_id):
        """Record the outcome of an appointment

        attended, no_show (with an optional `no_show_reason`), cancelled_patient or
        cancelled_provider: once, from scheduled only. Who and when are kept. Send the ETag
        read in If-Match.
        """
        appointment = _visible(appointment_id)
        reason = data.get("no_show_reason")
        if reason is not None and data["status"] != Status.NO_SHOW:
            unprocessable({"no_show_reason": [_("Send a reason with the status no_show only.")]})
        try:
            with service_errors(appointment):
                services.record_outcome(db.session, current_actor(), appointment, data["status"],
                                        expected_version(appointment), no_show_reason=reason)
                db.session.commit()
        except services.TransitionRefused as refused:
            db.session.rollback()
            return _transition_answer(refused)
        return tagged(appointment)
