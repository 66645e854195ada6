"""Forms of a hospital stay and of a clinical event, entered by hand from the patient's record.

They only parse; every rule is the service's (`coordinator.stays.services`), whose messages are
shown on these fields (named as the service names them).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from coordinator.core.forms import DateField, DateTimeLocalField
from coordinator.stays.labels import DESTINATION_LABELS, EVENT_TYPE_LABELS, MODE_LABELS

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class StayForm(FlaskForm):
    facility_name = StringField(_l("Facility"), validators=[DataRequired(), Length(max=200)])
    facility_finess = StringField(_l("FINESS number of the facility"),
                                  validators=[Optional(), Length(max=9)],
                                  description=_l("9 characters: a department code (01 to 95, "
                                                 "2A, 2B, 97) then 7 digits."))
    location = StringField(_l("Ward or unit"), validators=[Optional(), Length(max=100)])
    admitted_at = DateTimeLocalField(_l("Admission (Paris time)"), format=LOCAL_FORMATS,
                                     validators=[DataRequired()])
    admission_mode = SelectField(_l("Admission mode"), choices=list(MODE_LABELS.items()))
    discharged_at = DateTimeLocalField(_l("Discharge (Paris time)"), format=LOCAL_FORMATS,
                                       validators=[Optional()],
                                       description=_l("Empty while the patient is in hospital."))
    discharge_destination = SelectField(
        _l("Discharge destination"), choices=[("", "—"), *DESTINATION_LABELS.items()])
    main_diagnosis = StringField(_l("Main diagnosis (ICD-10)"),
                                 validators=[Optional(), Length(max=20)],
                                 description=_l("For example I50.9 or I509."))
    diagnoses = StringField(_l("Further diagnoses (ICD-10)"),
                            validators=[Optional(), Length(max=1000)],
                            description=_l("Codes separated by spaces or commas."))
    version = HiddenField()

    def service_values(self) -> dict:
        """The values as the service takes them: local date-times without a zone (Paris)."""
        return {
            "facility_name": self.facility_name.data,
            "facility_finess": self.facility_finess.data or None,
            "location": self.location.data or None,
            "admitted_at": self.admitted_at.data,
            "admission_mode": self.admission_mode.data,
            "discharged_at": self.discharged_at.data,
            "discharge_destination": self.discharge_destination.data or None,
            "main_diagnosis": self.main_diagnosis.data or None,
            "diagnoses": self.diagnoses.data or "",
        }


class EventForm(FlaskForm):
    event_type = SelectField(_l("Kind of event"), choices=list(EVENT_TYPE_LABELS.items()))
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("Immunization: influenza, covid19, pneumococcal or other; "
                                      "diagnosis: an ICD-10 code; ED visit: ed; lab result: "
                                      "e.g. hba1c."))
    occurred_on = DateField(_l("Date"), validators=[DataRequired()])
    value = StringField(_l("Value (lab results)"), validators=[Optional(), Length(max=40)])
    label = StringField(_l("Label"), validators=[Optional(), Length(max=300)])
    version = HiddenField()

    def service_values(self) -> dict:
        return {"event_type": self.event_type.data, "code": self.code.data,
                "occurred_on": self.occurred_on.data, "value": self.value.data or None,
                "label": self.label.data or None}


class ConfirmForm(FlaskForm):
    """A POST button with its CSRF token and the version it was shown at."""

    version = HiddenField()
