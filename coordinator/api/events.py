"""/api/v1/events: dated clinical events (immunizations, diagnoses, ED visits, lab results) of
the patients the caller may read; diagnoses and ED visits count in the LACE of their stays."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
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
from coordinator.auth.models import User
from coordinator.core import fields
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.permissions import (
    STAY_EDITOR,
    STAY_READER,
    abort_if_hidden,
    can_edit_stays,
    can_read_stays,
    require,
    stay_reader_scope,
)
from coordinator.stays import services
from coordinator.stays.models import ClinicalEvent, StaySource
from coordinator.stays.schemas import TYPES, EventCreateSchema, EventSchema, EventUpdateSchema

blp = ApiBlueprint(
    "api_events", __name__, url_prefix="/api/v1/events",
    description="Dated clinical events: immunizations (code influenza, covid19, pneumococcal "
                "or other), diagnoses (an ICD-10 code, stored normalised), ED visits (code "
                "ed) and lab results (a code such as hba1c, with a value). Who reads and "
                "records them is who reads and records hospital stays (see /api/v1/stays). "
                "A day before the patient's birth or after their death is refused (422 names "
                "the field). Reads, lists and changes are audited.")

NOT_FOUND = "No such event, or the caller may not read its patient's events."
TAKEN = _l("An event with this external_id exists already: change it with PATCH.")

EventPageSchema = page_schema(EventSchema, "EventPage")


class EventListArgsSchema(PageArgsSchema):
    patient = fields.Id(metadata={"description": "Patient id."})
    since = fields.Date(data_key="from", metadata={"description": "Events on or after this "
                                                                  "day."})
    until = fields.Date(data_key="to", metadata={"description": "Events on or before this day."})
    event_type = ma.fields.String(
        validate=ma.validate.OneOf(TYPES, error=_l("Choose a known kind of event.")),
        metadata={"enum": TYPES})


def list_query(user: User, args: dict) -> Select:
    """The events of the patients `user` may read, by day, filtered."""
    query = select(ClinicalEvent).join(Patient, ClinicalEvent.patient_id == Patient.id) \
        .where(stay_reader_scope(user))
    if args.get("patient") is not None:
        query = query.where(ClinicalEvent.patient_id == args["patient"])
    if args.get("since") is not None:
        query = query.where(ClinicalEvent.occurred_on >= args["since"])
    if args.get("until") is not None:
        query = query.where(ClinicalEvent.occurred_on <= args["until"])
    if args.get("event_type") is not None:
        query = query.where(ClinicalEvent.event_type == args["event_type"])
    return query.order_by(ClinicalEvent.occurred_on, ClinicalEvent.id)


def _criteria(args: dict) -> dict:
    return {name: value.isoformat() if isinstance(value, date) else value
            for name, value in (("patient", args.get("patient")), ("from", args.get("since")),
                                ("to", args.get("until")), ("type", args.get("event_type")))
            if value is not None}


def _event(event_id: int, may) -> ClinicalEvent:
    event = db.session.get(ClinicalEvent, event_id)
    abort_if_hidden(event is not None and may(current_user, event.patient))
    return event


def _values(data: dict) -> dict:
    return {name: value for name, value in data.items()
            if name not in ("patient_id", "external_id")}


@blp.route("")
class Events(MethodView):

    @require(STAY_READER)
    @blp.arguments(EventListArgsSchema, location="query")
    @blp.response(200, EventPageSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid filter or page.")
    def get(self, args):
        """List the events of the patients the caller may read (audited)

        By day; `from` and `to` are inclusive.
        """
        page = list_page(list_query(current_user, args), args)
        services.read_list(db.session, current_actor(), "clinical_event", page.items,
                           _criteria(args), page.total)
        db.session.commit()
        return page

    @require(STAY_EDITOR)
    @blp.arguments(EventCreateSchema)
    @blp.response(201, EventSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema,
                      description="No such patient, or the caller may not open it.")
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def post(self, data):
        """Record an event"""
        patient = db.session.get(Patient, data["patient_id"])
        abort_if_hidden(patient is not None and can_edit_stays(current_user, patient))
        external_id = data.get("external_id")
        if external_id and services.event_by_external_id(db.session, external_id):
            unprocessable({"external_id": [TAKEN]})
        with service_errors():
            event = services.record_event(db.session, patient=patient, values=_values(data),
                                          source=StaySource.API, actor=current_actor(),
                                          external_id=external_id)
            db.session.commit()
        return tagged(event, 201, {"Location": url_for(".EventItem", event_id=event.id)})


@blp.route("/<int:event_id>")
class EventItem(MethodView):

    @require(STAY_READER)
    @blp.response(200, EventSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description=NOT_FOUND)
    def get(self, event_id):
        """Read an event (audited)"""
        event = _event(event_id, can_read_stays)
        services.read_event(db.session, current_actor(), event)
        db.session.commit()
        return tagged(event)

    @require(STAY_EDITOR)
    @conditional(blp)
    @blp.arguments(EventUpdateSchema)
    @blp.response(200, EventSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description=NOT_FOUND)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def patch(self, data, event_id):
        """Change an event

        Only the fields sent change. Send the ETag read in If-Match.
        """
        event = _event(event_id, can_edit_stays)
        with service_errors(event):
            services.record_event(db.session, patient=event.patient, values=_values(data),
                                  source=StaySource.API, actor=current_actor(),
                                  external_id=data.get("external_id"), event=event,
                                  expected_version=expected_version(event))
            db.session.commit()
        return tagged(event)
