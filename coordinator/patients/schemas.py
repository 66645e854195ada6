"""JSON views of a patient record, per audience.

`PatientSchema` is the record as case managers (patients of their territory) and administrators
read it. GP and council readers get no patient schema: they do not open registry records (GPs
read shared care plans, councils read aggregates), so the API never serialises a patient for
them. The write schemas only parse and shape the input; every rule is checked by
`coordinator.patients.services`, whose messages the API answers with these field names.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from coordinator.core import fields
from coordinator.patients.models import CONSENT_EXPRESSIONS
from coordinator.patients.validation import IDENTITY_STATUSES

TOO_LONG = _l("At most {max} characters.")


def _text(max_length: int, *, allow_none: bool = True, **kwargs) -> ma.fields.String:
    return ma.fields.String(allow_none=allow_none,
                            validate=ma.validate.Length(max=max_length, error=TOO_LONG), **kwargs)


class PatientSchema(ma.Schema):
    """A patient's record as case managers and administrators read it."""

    id = ma.fields.Integer()
    external_id = ma.fields.String(allow_none=True)
    nir = ma.fields.String(allow_none=True, metadata={"description": "NIR/INS, 15 characters."})
    identity_status = ma.fields.String(metadata={"enum": list(IDENTITY_STATUSES)})
    birth_name = ma.fields.String()
    used_name = ma.fields.String(allow_none=True)
    first_names = ma.fields.String()
    display_name = ma.fields.String()
    birth_date = ma.fields.Date()
    sex = ma.fields.String(metadata={"enum": ["F", "M", "U"]})
    birth_place_insee = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    postal_code = ma.fields.String(allow_none=True)
    city = ma.fields.String(allow_none=True)
    language = ma.fields.String(metadata={"description": "The language of the patient's "
                                                         "reminders (`fr`, `en`)."})
    territory_code = ma.fields.String(attribute="territory.code")
    gp_id = ma.fields.Integer(allow_none=True)
    case_manager_id = ma.fields.Integer(allow_none=True)
    consent_share = ma.fields.Boolean()
    consent_date = ma.fields.Date(allow_none=True)
    trusted_person_name = ma.fields.String(allow_none=True)
    trusted_person_relation = ma.fields.String(allow_none=True)
    trusted_person_phone = ma.fields.String(allow_none=True)
    advance_directives = ma.fields.Boolean()
    advance_directives_date = ma.fields.Date(allow_none=True)
    deceased_date = ma.fields.Date(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "Incremented by every change."})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class PatientUpdateSchema(ma.Schema):
    """A change to a patient's record: only the fields sent are changed (null clears one)."""

    external_id = _text(64)
    nir = ma.fields.String(
        allow_none=True, metadata={"description": "NIR/INS; spaces, dots and dashes are ignored."})
    identity_status = ma.fields.String(metadata={"enum": list(IDENTITY_STATUSES)})
    birth_name = _text(200, allow_none=False)
    used_name = _text(200)
    first_names = _text(200, allow_none=False)
    birth_date = fields.Date()
    sex = ma.fields.String(metadata={"enum": ["F", "M", "U"]})
    birth_place_insee = ma.fields.String(
        allow_none=True, metadata={"description": "INSEE commune code, e.g. 59178."})
    phone = _text(40)
    email = _text(254)
    address = _text(300)
    postal_code = _text(10)
    city = _text(100)
    language = ma.fields.String(
        metadata={"description": "The language of the patient's reminders, one the instance "
                                 "offers (`fr`, `en`); default `fr`."})
    territory_code = ma.fields.String(metadata={"description": "Territory code, e.g. DOUAISIS."})
    gp_id = fields.Id(allow_none=True,
                              metadata={"description": "A provider of kind gp, active."})
    case_manager_id = fields.Id(
        allow_none=True, metadata={"description": "An active case manager of the territory."})
    consent_share = fields.Boolean(
        metadata={"description": "Consent to share the care plan; a change is kept in the "
                                 "consent history."})
    consent_date = fields.Date(
        allow_none=True,
        metadata={"description": "Effective date of a consent change (default: today; not "
                                 "in the future)."})
    consent_expressed_as = ma.fields.String(
        allow_none=True,
        metadata={"enum": list(CONSENT_EXPRESSIONS),
                  "description": "How the patient expressed the consent change; required to "
                                 "withdraw it (consent_share false), else 422."})
    trusted_person_name = _text(200)
    trusted_person_relation = _text(100)
    trusted_person_phone = _text(40)
    advance_directives = fields.Boolean()
    advance_directives_date = fields.Date(allow_none=True)
    deceased_date = fields.Date(allow_none=True)


class PatientCreateSchema(PatientUpdateSchema):
    """A new patient. A likely duplicate answers 409 unless `confirm_duplicate` is true."""

    birth_name = _text(200, allow_none=False, required=True)
    first_names = _text(200, allow_none=False, required=True)
    birth_date = fields.Date(required=True)
    sex = ma.fields.String(required=True, metadata={"enum": ["F", "M", "U"]})
    territory_code = ma.fields.String(required=True,
                                      metadata={"description": "Territory code, e.g. DOUAISIS."})
    confirm_duplicate = fields.Boolean(
        load_default=False,
        metadata={"description": "Register the patient although a likely duplicate exists."})


class DuplicateCandidateSchema(ma.Schema):
    """A record the new patient may duplicate, that the caller may open."""

    id = ma.fields.Integer(required=True)
    display_name = ma.fields.String()
    birth_date = ma.fields.Date()
    territory_code = ma.fields.String()


class DuplicateSchema(ma.Schema):
    """409: likely duplicates of the patient sent."""

    errors = ma.fields.Dict(keys=ma.fields.String(),
                            values=ma.fields.List(ma.fields.String()), required=True)
    candidates = ma.fields.List(ma.fields.Nested(DuplicateCandidateSchema), required=True,
                                metadata={"description": "The likely duplicates the caller may "
                                          "open."})
    elsewhere = ma.fields.Boolean(required=True, metadata={
        "description": "Whether a likely duplicate exists that the caller may not open (another "
                       "territory's record): nothing else about it is given."})
