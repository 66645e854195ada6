"""The labels of stays and clinical events, in the reader's language (forms and pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from coordinator.stays.models import AdmissionMode, DischargeDestination, EventType, StaySource

MODE_LABELS = {AdmissionMode.EMERGENCY: _l("Emergency"),
               AdmissionMode.PLANNED: _l("Planned"),
               AdmissionMode.TRANSFER: _l("Transfer from another facility")}
DESTINATION_LABELS = {
    DischargeDestination.HOME: _l("Home"),
    DischargeDestination.HOME_WITH_SERVICES: _l("Home with services"),
    DischargeDestination.NURSING_HOME: _l("Nursing home"),
    DischargeDestination.REHABILITATION: _l("Rehabilitation"),
    DischargeDestination.TRANSFER: _l("Transfer to another facility"),
    DischargeDestination.DEATH: _l("Death"),
    DischargeDestination.OTHER: _l("Other"),
}
EVENT_TYPE_LABELS = {EventType.IMMUNIZATION: _l("Immunization"),
                     EventType.DIAGNOSIS: _l("Diagnosis"),
                     EventType.ED_VISIT: _l("Emergency department visit"),
                     EventType.LAB_RESULT: _l("Lab result")}
IMMUNIZATION_LABELS = {"influenza": _l("Influenza"), "covid19": _l("COVID-19"),
                       "pneumococcal": _l("Pneumococcal"), "other": _l("Other")}
SOURCE_LABELS = {StaySource.FORM: _l("entered by hand"), StaySource.CSV: _l("CSV import"),
                 StaySource.API: _l("API"), StaySource.HL7: _l("HL7 feed"),
                 StaySource.DEMO: _l("demo data")}

# The labels every template of stays reads (a template global, `stay_labels`, registered in
# coordinator/templating.py: the record's section is rendered by the patients' page).
STAY_LABELS = {"mode": MODE_LABELS, "destination": DESTINATION_LABELS,
               "event_type": EVENT_TYPE_LABELS, "immunization": IMMUNIZATION_LABELS,
               "source": SOURCE_LABELS}
