"""/api/v1/patients: the registry, for case managers (their territory) and administrators."""

from __future__ import annotations

import marshmallow as ma
from flask import jsonify, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from coordinator.api.common import (
    ETAG_HEADER,
    ApiBlueprint,
    ErrorsSchema,
    PageArgsSchema,
    by_code,
    conditional,
    expected_version,
    id_for_code,
    list_page,
    page_schema,
    service_errors,
    tagged,
)
from coordinator.core import fields
from coordinator.core.errors import DuplicateSuspected
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients import services
from coordinator.patients.models import Patient
from coordinator.patients.schemas import (
    DuplicateCandidateSchema,
    DuplicateSchema,
    PatientCreateSchema,
    PatientSchema,
    PatientUpdateSchema,
)
from coordinator.permissions import (
    AUTHENTICATED,
    PATIENT_STAFF,
    abort_if_hidden,
    can_view_patient,
    require,
)
from coordinator.strata.models import Program, Stratum, Territory

blp = ApiBlueprint(
    "api_patients", __name__, url_prefix="/api/v1/patients",
    description="Patients of the registry. Case managers see and change the patients of their "
                "territory, administrators all of them; GPs and councils do not open patient "
                "records (403 on the list, 404 on a record). Reads, searches and changes are "
                "recorded in the audit trail.")

# The services name fields after the model; the API after its JSON fields.
RENAMES = {"territory_id": "territory_code"}
UNKNOWN = {"territory": _l("Unknown territory code."), "program": _l("Unknown program code."),
           "stratum": _l("Unknown stratum code.")}

PatientPageSchema = page_schema(PatientSchema, "PatientPage")


class PatientListArgsSchema(PageArgsSchema):
    name = ma.fields.String(metadata={"description": "Start of the birth or used name, then of "
                                                     "the first names (accents and case "
                                                     "ignored)."})
    birth_date = fields.Date()
    territory = ma.fields.String(metadata={"description": "Territory code."})
    program = ma.fields.String(metadata={"description": "Program code: patients currently in "
                                                        "one of its strata."})
    stratum = ma.fields.String(metadata={"description": "Stratum code: patients currently in it."})
    case_manager = fields.Id(metadata={"description": "Id of the case manager."})

    @ma.validates_schema(pass_original=True)
    def no_nir_in_the_address(self, _data, original, **_kwargs):
        """A NIR is not put in an address (#15, finding 10): addresses end up in logs, proxies
        and histories."""
        if "nir" in (original or {}):
            raise ma.ValidationError(
                _l("A NIR is not sent in an address: search with POST /api/v1/patients/search "
                   "and the NIR in the body."), field_name="nir")


class PatientSearchBodySchema(PatientListArgsSchema):
    """The criteria of a search in a request's body (the NIR among them)."""

    nir = ma.fields.String(metadata={"description": "NIR/INS (15 characters, spaces ignored)."})

    @ma.validates_schema(pass_original=True)
    def no_nir_in_the_address(self, _data, original, **_kwargs):
        return None  # in the body, the NIR is welcome


def _visible(patient_id: int) -> Patient:
    """The patient, if the caller may open it; 404 otherwise (its existence must not leak)."""
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(patient is not None and can_view_patient(current_user, patient))
    return patient


def _service_data(data: dict) -> dict:
    """The API's fields as the service's: the territory by code becomes its id (None when the
    code is unknown, which the service refuses with its own message)."""
    values = dict(data)
    if "territory_code" in values:
        values["territory_id"] = id_for_code(Territory, values.pop("territory_code"))
    return values


def _id_of(model, args: dict, name: str) -> int | None:
    row = by_code(model, args.get(name), name, UNKNOWN[name])
    return row.id if row is not None else None


def _duplicate_answer(candidates: list[Patient]):
    """409 with the likely duplicates the caller may open (id and identity); of the others only
    that one exists elsewhere (`elsewhere`, no id), the attempt audited."""
    disclosed = services.disclose_duplicates(db.session, current_actor(), current_user,
                                             candidates)
    db.session.commit()
    visible = DuplicateCandidateSchema()
    errors = [_("This patient seems to be registered already (same NIR, or same birth name, "
                "first name and birth date). Open the existing record, or send "
                "confirm_duplicate: true to register a new one anyway.")]
    if disclosed.elsewhere:
        errors.append(_("A matching record exists in another territory: ask an administrator "
                        "(nothing else about it is shown)."))
    response = jsonify({
        "errors": {"duplicate": errors},
        "candidates": [visible.dump({"id": candidate.id,
                                     "display_name": candidate.display_name,
                                     "birth_date": candidate.birth_date,
                                     "territory_code": candidate.territory.code})
                       for candidate in disclosed.visible],
        "elsewhere": disclosed.elsewhere,
    })
    response.status_code = 409
    return response


def _search(args: dict):
    criteria = services.PatientSearch(
        name=args.get("name"), birth_date=args.get("birth_date"), nir=args.get("nir"),
        territory_id=_id_of(Territory, args, "territory"),
        program_id=_id_of(Program, args, "program"),
        stratum_id=_id_of(Stratum, args, "stratum"),
        case_manager_id=args.get("case_manager"))
    page = list_page(services.search_query(current_user, criteria), args)
    services.audit_search(db.session, current_actor(), criteria, page.total, page.items)
    db.session.commit()
    return page


@blp.route("/search")
class PatientSearch(MethodView):

    @require(PATIENT_STAFF)
    @blp.arguments(PatientSearchBodySchema, required=False)
    @blp.response(200, PatientPageSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid criteria or page.")
    def post(self, args):
        """Search the patients the caller may see, criteria in the body

        The same search as `GET /api/v1/patients`, with the NIR too: a NIR is never put in an
        address. Nothing is written but the audit entry of the search.
        """
        return _search(args)


@blp.route("")
class Patients(MethodView):

    @require(PATIENT_STAFF)
    @blp.arguments(PatientListArgsSchema, location="query")
    @blp.response(200, PatientPageSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid filter or page.")
    def get(self, args):
        """Search the patients the caller may see

        Filters combine; names match as prefixes. Every search is audited with its criteria.
        """
        return _search(args)

    @require(PATIENT_STAFF)
    @blp.arguments(PatientCreateSchema)
    @blp.response(201, PatientSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(409, schema=DuplicateSchema,
                      description="A likely duplicate exists: nothing was written.")
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def post(self, data):
        """Register a patient

        Case managers register patients of their own territory.
        """
        confirm = data.pop("confirm_duplicate", False)
        try:
            with service_errors(renames=RENAMES):
                patient = services.create_patient(db.session, current_actor(),
                                                  _service_data(data), confirm_duplicate=confirm)
                db.session.commit()
        except DuplicateSuspected as suspected:
            db.session.rollback()
            return _duplicate_answer(suspected.candidates)
        return tagged(patient, 201, {"Location": url_for(".PatientItem", patient_id=patient.id)})


@blp.route("/<int:patient_id>")
class PatientItem(MethodView):

    @require(AUTHENTICATED)
    @blp.response(200, PatientSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema,
                      description="No such patient, or the caller may not open it.")
    def get(self, patient_id):
        """Open a patient's record (audited)"""
        patient = _visible(patient_id)
        services.read_patient(db.session, current_actor(), patient)
        db.session.commit()
        return tagged(patient)

    @require(PATIENT_STAFF)
    @conditional(blp)
    @blp.arguments(PatientUpdateSchema)
    @blp.response(200, PatientSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema,
                      description="No such patient, or the caller may not open it.")
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def patch(self, data, patient_id):
        """Change a patient's record

        Only the fields sent change. Send the ETag read in If-Match.
        """
        patient = _visible(patient_id)
        with service_errors(patient, RENAMES):
            services.update_patient(db.session, current_actor(), patient, _service_data(data),
                                    expected_version(patient))
            db.session.commit()
        return tagged(patient)
