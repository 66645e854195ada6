"""/api/v1/stays: hospital stays of the patients the caller may read, with their 30-day
readmission flags and LACE."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

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
from coordinator.stays.models import Stay, StaySource
from coordinator.stays.schemas import StayCreateSchema, StaySchema, StayUpdateSchema

blp = ApiBlueprint(
    "api_stays", __name__, url_prefix="/api/v1/stays",
    description="Hospital stays. Case managers read and record the stays of the patients of "
                "their territory, administrators all of them; a GP reads the stays of their "
                "own patients who consented to share (403 on writes); councils do not (403, "
                "404 on a record). A cancelled admission is gone from the API (404). Instants "
                "are answered in UTC; a date-time sent without an offset is Europe/Paris "
                "local time. Every stay is checked by the same rules as on the pages, the CSV "
                "import and the HL7 feed: 422 names the field (discharge before admission, "
                "an overlapping stay of the patient in the same facility, an ICD-10 code of "
                "an unknown shape, a stay after the patient's death or before their birth). "
                "`is_index_stay`, `readmission_of`, `readmitted_by` and `lace` are computed "
                "(metrics.md, readmission_30d; LACE, van Walraven 2010) and read only. Reads, "
                "lists and changes are audited.")

NOT_FOUND = "No such stay, or the caller may not read its patient's stays."
TAKEN = _l("A stay with this external_id exists already: change it with PATCH.")

StayPageSchema = page_schema(StaySchema, "StayPage")


class StayListArgsSchema(PageArgsSchema):
    patient = fields.Id(metadata={"description": "Patient id."})
    since = fields.Date(data_key="from", metadata={
        "description": "Stays not discharged before this day (Paris time): open stays and "
                       "those discharged on or after it."})
    until = fields.Date(data_key="to", metadata={
        "description": "Stays admitted on or before this day (Paris time)."})
    open = ma.fields.Boolean(metadata={"description": "true: the stays without a discharge "
                                                      "(in hospital); false: discharged ones."})


def list_query(user: User, args: dict) -> Select:
    """The stays (not cancelled) of the patients `user` may read, by admission: in hospital at
    some time of [`from`, `to`] (Paris days), of a patient, open or not."""
    query = select(Stay).join(Patient, Stay.patient_id == Patient.id) \
        .options(selectinload(Stay.diagnoses)) \
        .where(stay_reader_scope(user), Stay.cancelled_at.is_(None))
    if args.get("patient") is not None:
        query = query.where(Stay.patient_id == args["patient"])
    if args.get("since") is not None:
        query = query.where(or_(Stay.discharged_on.is_(None),
                                Stay.discharged_on >= args["since"]))
    if args.get("until") is not None:
        query = query.where(Stay.admitted_on <= args["until"])
    if args.get("open") is True:
        query = query.where(Stay.discharged_at.is_(None))
    elif args.get("open") is False:
        query = query.where(Stay.discharged_at.is_not(None))
    return query.order_by(Stay.admitted_at, Stay.id)


def _criteria(args: dict) -> dict:
    return {name: value.isoformat() if isinstance(value, date) else value
            for name, value in (("patient", args.get("patient")), ("from", args.get("since")),
                                ("to", args.get("until")), ("open", args.get("open")))
            if value is not None}


def _readable(stay_id: int) -> Stay:
    stay = db.session.get(Stay, stay_id)
    abort_if_hidden(stay is not None and stay.cancelled_at is None and
                    can_read_stays(current_user, stay.patient))
    return stay


def _editable(stay_id: int) -> Stay:
    stay = db.session.get(Stay, stay_id)
    abort_if_hidden(stay is not None and stay.cancelled_at is None and
                    can_edit_stays(current_user, stay.patient))
    return stay


def _values(data: dict) -> dict:
    return {name: value for name, value in data.items()
            if name not in ("patient_id", "external_id")}


@blp.route("")
class Stays(MethodView):

    @require(STAY_READER)
    @blp.arguments(StayListArgsSchema, location="query")
    @blp.response(200, StayPageSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid filter or page.")
    def get(self, args):
        """List the stays of the patients the caller may read (audited)

        By admission. `from` and `to` are inclusive Paris days: the stays during which the
        patient was in hospital at some time of the period.
        """
        page = list_page(list_query(current_user, args), args)
        services.read_list(db.session, current_actor(), "stay", page.items, _criteria(args),
                           page.total)
        db.session.commit()
        return page

    @require(STAY_EDITOR)
    @blp.arguments(StayCreateSchema)
    @blp.response(201, StaySchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema,
                      description="No such patient, or the caller may not open it.")
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def post(self, data):
        """Record a stay

        Its readmission flags and LACE are computed at once (LACE once it is discharged).
        """
        patient = db.session.get(Patient, data["patient_id"])
        abort_if_hidden(patient is not None and can_edit_stays(current_user, patient))
        external_id = data.get("external_id")
        if external_id and services.stay_by_external_id(db.session, external_id):
            unprocessable({"external_id": [TAKEN]})
        with service_errors():
            stay = services.record_stay(db.session, patient=patient, values=_values(data),
                                        source=StaySource.API, actor=current_actor(),
                                        external_id=external_id)
            db.session.commit()
        return tagged(stay, 201, {"Location": url_for(".StayItem", stay_id=stay.id)})


@blp.route("/<int:stay_id>")
class StayItem(MethodView):

    @require(STAY_READER)
    @blp.response(200, StaySchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description=NOT_FOUND)
    def get(self, stay_id):
        """Read a stay (audited)"""
        stay = _readable(stay_id)
        services.read_stay(db.session, current_actor(), stay)
        db.session.commit()
        return tagged(stay)

    @require(STAY_EDITOR)
    @conditional(blp)
    @blp.arguments(StayUpdateSchema)
    @blp.response(200, StaySchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description=NOT_FOUND)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def patch(self, data, stay_id):
        """Change a stay

        Only the fields sent change: a discharge added later, a corrected diagnosis; a null
        `discharged_at` reopens the stay. The flags and LACE of the patient's stays are
        recomputed. Send the ETag read in If-Match.
        """
        stay = _editable(stay_id)
        with service_errors(stay):
            services.record_stay(db.session, patient=stay.patient, values=_values(data),
                                 source=StaySource.API, actor=current_actor(),
                                 external_id=data.get("external_id"), stay=stay,
                                 expected_version=expected_version(stay))
            db.session.commit()
        return tagged(stay)
