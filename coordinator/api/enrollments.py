"""/api/v1/enrollments: the rows of the patients' stratum timelines."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from coordinator.api.common import (
    ApiBlueprint,
    ErrorsSchema,
    PageArgsSchema,
    by_code,
    list_page,
    page_schema,
    service_errors,
    unprocessable,
)
from coordinator.core import fields
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients import assignments
from coordinator.patients.models import Patient
from coordinator.permissions import (
    AUTHENTICATED,
    PATIENT_STAFF,
    abort_if_hidden,
    can_view_patient,
    require,
)
from coordinator.strata.models import Program, Stratum, StratumAssignment
from coordinator.strata.schemas import EnrollmentCreateSchema, EnrollmentSchema

blp = ApiBlueprint(
    "api_enrollments", __name__, url_prefix="/api/v1/enrollments",
    description="The timeline of each patient in each program: one row per stratum assignment "
                "or exit, each lasting until the day before the next. Read and written by the "
                "patient's audience (case managers of the patient's territory, administrators). "
                "Rows are only added: history rows cannot be updated or deleted through the "
                "API; corrections go through the import. Reads and changes are audited.")

# The services name fields after the model; the API after its JSON fields.
RENAMES = {"stratum": "stratum_code", "program": "program_code"}
UNKNOWN_PATIENT = _l("Unknown patient.")

EnrollmentPageSchema = page_schema(EnrollmentSchema, "EnrollmentPage")


class EnrollmentListArgsSchema(PageArgsSchema):
    patient = fields.Id(metadata={"description": "Patient id."})
    program = ma.fields.String(metadata={"description": "Program code."})
    stratum = ma.fields.String(metadata={"description": "Stratum code."})
    current = ma.fields.Boolean(metadata={"description": "true: the open row of each timeline "
                                                        "(an exit included); false: the "
                                                        "closed rows."})


def _patient(patient_id: int) -> Patient:
    """The patient named in the body; unknown and hidden patients answer the same 422."""
    patient = db.session.get(Patient, patient_id)
    if patient is None or not can_view_patient(current_user, patient):
        unprocessable({"patient_id": [UNKNOWN_PATIENT]})
    return patient


@blp.route("")
class Enrollments(MethodView):

    @require(PATIENT_STAFF)
    @blp.arguments(EnrollmentListArgsSchema, location="query")
    @blp.response(200, EnrollmentPageSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid filter or page.")
    def get(self, args):
        """List timeline rows of the patients the caller may see (audited)"""
        program = by_code(Program, args.get("program"), "program", _l("Unknown program code."))
        stratum = by_code(Stratum, args.get("stratum"), "stratum", _l("Unknown stratum code."))
        criteria = assignments.AssignmentSearch(
            patient_id=args.get("patient"), program_id=program.id if program else None,
            stratum_id=stratum.id if stratum else None, current=args.get("current"))
        page = list_page(assignments.search_query(current_user, criteria), args)
        assignments.audit_search(db.session, current_actor(), criteria, page.total,
                                 page.items)
        db.session.commit()
        return page

    @require(PATIENT_STAFF)
    @blp.arguments(EnrollmentCreateSchema)
    @blp.response(201, EnrollmentSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def post(self, data):
        """Assign a stratum, or exit a program

        `stratum_code` enters that stratum from `effective_date` (the previous row ends the day
        before); `exit: true` with `program_code` and a `reason` ends the enrollment. The date
        must come after the patient's latest row in the program: history is never rewritten.
        """
        patient = _patient(data["patient_id"])
        program = by_code(Program, data.get("program_code"), "program_code",
                          _l("Unknown program code."))
        with service_errors(renames=RENAMES):
            if data["is_exit"]:
                row = assignments.exit_program(db.session, current_actor(), patient, program,
                                               data["effective_date"], data.get("reason"))
            else:
                stratum = by_code(Stratum, data["stratum_code"], "stratum_code",
                                  _l("Unknown stratum code."))
                row = assignments.assign_stratum(db.session, current_actor(), patient, stratum,
                                                 data["effective_date"], data.get("reason"),
                                                 program=program)
            db.session.commit()
        return row, 201, {"Location": url_for(".EnrollmentItem", enrollment_id=row.id)}


@blp.route("/<int:enrollment_id>")
class EnrollmentItem(MethodView):

    @require(AUTHENTICATED)
    @blp.response(200, EnrollmentSchema)
    @blp.alt_response(404, schema=ErrorsSchema,
                      description="No such row, or the caller may not open its patient.")
    def get(self, enrollment_id):
        """Read one timeline row (audited)

        Rows cannot be changed through the API: corrections go through the import.
        """
        row = db.session.get(StratumAssignment, enrollment_id)
        patient = db.session.get(Patient, row.patient_id) if row is not None else None
        abort_if_hidden(patient is not None and can_view_patient(current_user, patient))
        assignments.read_assignment(db.session, current_actor(), row)
        db.session.commit()
        return row
