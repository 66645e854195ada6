"""JSON views of a hospital stay and of a clinical event, and the bodies that create or change
them (the API, `coordinator/api/stays.py` and `events.py`).

Instants are answered in UTC (`2026-03-05T21:10:00+00:00`); a date-time sent without an offset
is Europe/Paris local time. The write schemas only parse and shape the input, within the
columns' widths; every rule is checked by `coordinator.stays.services`, whose messages the API
answers with these field names. The derived fields (`is_index_stay`, `readmission_of`,
`readmitted_by`, `lace`) are read only.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from coordinator.core import fields
from coordinator.stays import lace
from coordinator.stays.models import (
    ADMISSION_MODES,
    DESTINATIONS,
    EVENT_TYPES,
    ClinicalEvent,
    Stay,
)
from coordinator.stays.services import MAX_DIAGNOSES, MAX_VALUE

TOO_LONG = _l("At most {max} characters.")
PARIS_TIME = "Without a UTC offset the time is Europe/Paris local time."
INVALID_DATETIME = _l("Not a valid date-time: use ISO 8601, e.g. 2026-03-01T14:30 (without an "
                      "offset: Paris time).")
MODES = [mode.value for mode in ADMISSION_MODES]
DESTINATION_VALUES = [destination.value for destination in DESTINATIONS]
TYPES = [event_type.value for event_type in EVENT_TYPES]


def _text(max_length: int, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(max=max_length, error=TOO_LONG),
                            **kwargs)


def _choice(values: list[str], message, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.OneOf(values, error=message),
                            metadata={"enum": values, **kwargs.pop("metadata", {})}, **kwargs)


def _instant(description: str, **kwargs) -> ma.fields.DateTime:
    return fields.DateTime(error_messages={"invalid": INVALID_DATETIME},
                           metadata={"description": description}, **kwargs)


# -- Reading -----------------------------------------------------------------------------------

class LaceSchema(ma.Schema):
    """LACE at discharge (van Walraven 2010) with its components; 10 or more is high risk."""

    score = ma.fields.Integer(required=True, metadata={"description": "0 to 19."})
    length = ma.fields.Integer(required=True,
                               metadata={"description": "L: length of stay points (0-7)."})
    acuity = ma.fields.Integer(required=True,
                               metadata={"description": "A: 3 for an emergency admission."})
    comorbidity = ma.fields.Integer(required=True,
                                    metadata={"description": "C: Charlson index points (0-5)."})
    emergency_visits = ma.fields.Integer(
        required=True, metadata={"description": "E: ED visits in the 6 months before (0-4)."})


class StaySchema(ma.Schema):
    """A hospital stay, with its readmission flags and LACE (derived, read only)."""

    id = ma.fields.Integer(required=True)
    external_id = ma.fields.String(
        required=True, allow_none=True,
        metadata={"description": "Its identifier at the source (the HL7 visit number)."})
    patient_id = ma.fields.Integer(required=True)
    facility_name = ma.fields.String(required=True)
    facility_finess = ma.fields.String(required=True, allow_none=True)
    admitted_at = ma.fields.DateTime(required=True, metadata={"description": "UTC instant."})
    admission_mode = ma.fields.String(required=True, metadata={"enum": MODES})
    discharged_at = ma.fields.DateTime(
        required=True, allow_none=True,
        metadata={"description": "UTC instant; null while the patient is in hospital."})
    discharge_destination = ma.fields.String(required=True, allow_none=True,
                                             metadata={"enum": [*DESTINATION_VALUES, None]})
    main_diagnosis = ma.fields.String(required=True, allow_none=True,
                                      metadata={"description": "ICD-10, normalised (I50.9)."})
    diagnoses = ma.fields.List(ma.fields.String(), required=True,
                               metadata={"description": "Further diagnoses, ICD-10."})
    is_index_stay = ma.fields.Boolean(
        required=True, metadata={"description": "Discharged, to neither death nor transfer: "
                                                "counts in the 30-day readmission rate."})
    readmission_of = ma.fields.Integer(
        required=True, allow_none=True,
        metadata={"description": "The index stay this emergency admission readmits (0-30 "
                                 "days after its discharge)."})
    readmitted_by = ma.fields.Integer(
        required=True, allow_none=True,
        metadata={"description": "The first emergency admission within 30 days after this "
                                 "index stay."})
    lace = ma.fields.Nested(LaceSchema, required=True, allow_none=True,
                            metadata={"description": "null while the stay is open."})

    @ma.pre_dump
    def _item(self, stay: Stay, **kwargs) -> dict:
        return {"id": stay.id, "external_id": stay.external_id, "patient_id": stay.patient_id,
                "facility_name": stay.facility_name, "facility_finess": stay.facility_finess,
                "admitted_at": stay.admitted_at, "admission_mode": stay.admission_mode,
                "discharged_at": stay.discharged_at,
                "discharge_destination": stay.discharge_destination,
                "main_diagnosis": stay.main_diagnosis,
                "diagnoses": [row.code for row in stay.diagnoses],
                "is_index_stay": bool(stay.is_index_stay),
                "readmission_of": stay.readmission_of_id,
                "readmitted_by": stay.readmitted_by_id, "lace": lace.components(stay)}


class EventSchema(ma.Schema):
    """A dated clinical event."""

    id = ma.fields.Integer(required=True)
    external_id = ma.fields.String(required=True, allow_none=True)
    patient_id = ma.fields.Integer(required=True)
    event_type = ma.fields.String(required=True, metadata={"enum": TYPES})
    code = ma.fields.String(required=True,
                            metadata={"description": "By type: influenza, covid19, pneumococcal "
                                                     "or other; an ICD-10 code (normalised); "
                                                     "ed; a lab code such as hba1c."})
    occurred_on = ma.fields.Date(required=True)
    value = ma.fields.Float(required=True, allow_none=True,
                            metadata={"description": "The value of a lab result."})
    label = ma.fields.String(required=True, allow_none=True)

    @ma.pre_dump
    def _item(self, event: ClinicalEvent, **kwargs) -> dict:
        return {"id": event.id, "external_id": event.external_id,
                "patient_id": event.patient_id, "event_type": event.event_type,
                "code": event.code, "occurred_on": event.occurred_on,
                "value": None if event.value is None else float(event.value),
                "label": event.label}


# -- Writing -----------------------------------------------------------------------------------

class StayUpdateSchema(ma.Schema):
    """A change to a stay: only the fields sent change (null clears an optional one; a null
    discharge reopens the stay)."""

    external_id = _text(64, metadata={"description": "Its identifier at the source."})
    facility_name = _text(200)
    facility_finess = _text(9, allow_none=True, metadata={
        "description": "9 characters: a department code (01 to 95, 2A, 2B, 97) then 7 "
                       "digits."})
    admitted_at = _instant(PARIS_TIME)
    admission_mode = _choice(MODES, _l("Choose emergency, planned or transfer."))
    discharged_at = _instant(f"Not before admitted_at. {PARIS_TIME}", allow_none=True)
    discharge_destination = _choice(
        DESTINATION_VALUES, _l("Choose a known destination."), allow_none=True,
        metadata={"description": "With a discharge only."})
    main_diagnosis = _text(20, allow_none=True,
                           metadata={"description": "ICD-10: I50.9, I509 or E11 ..."})
    diagnoses = ma.fields.List(
        _text(20), allow_none=True,
        validate=ma.validate.Length(max=MAX_DIAGNOSES,
                                    error=_l("At most {max} further diagnoses.")),
        metadata={"description": "Further diagnoses, ICD-10 (the list replaces the stored "
                                 "one)."})


class StayCreateSchema(StayUpdateSchema):
    """A new stay. An `external_id` already taken is refused (change that stay with PATCH)."""

    patient_id = fields.Id(required=True)
    external_id = _text(64, allow_none=True,
                        metadata={"description": "Its identifier at the source."})
    facility_name = _text(200, required=True)
    admitted_at = _instant(PARIS_TIME, required=True)
    admission_mode = _choice(MODES, _l("Choose emergency, planned or transfer."),
                             required=True)


class EventUpdateSchema(ma.Schema):
    """A change to an event: only the fields sent change."""

    external_id = _text(64)
    event_type = _choice(TYPES, _l("Choose a known kind of event."))
    code = _text(40, metadata={"description": "By type: influenza, covid19, pneumococcal or "
                                              "other; an ICD-10 code; ed; a lab code such as "
                                              "hba1c."})
    occurred_on = fields.Date()
    value = ma.fields.Float(
        allow_none=True, allow_nan=False,
        validate=ma.validate.Range(min=-float(MAX_VALUE), max=float(MAX_VALUE),
                                   error=_l("Give a number from {min} to {max}.")),
        metadata={"description": "Lab results only; 4 decimals are kept."})
    label = _text(300, allow_none=True)


class EventCreateSchema(EventUpdateSchema):
    patient_id = fields.Id(required=True)
    external_id = _text(64, allow_none=True)
    event_type = _choice(TYPES, _l("Choose a known kind of event."), required=True)
    code = _text(40, required=True)
    occurred_on = fields.Date(required=True)
