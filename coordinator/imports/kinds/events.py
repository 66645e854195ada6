"""The `events` format: dated clinical events (immunizations, diagnoses, ED visits, lab
results), upserted by `external_id` through the one service of events
(`coordinator.stays.services.record_events`, as the pages and the API): codes checked by type
(an ICD-10 code for a diagnosis, stored normalised), a value for lab results only, the day in
bounds, after the patient's birth and not after their death. Diagnoses and ED visits count in
LACE: the LACE of the batch's patients' stays is refreshed after each batch."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from coordinator.imports.cells import choice, decimal, parse_date, text, text_for
from coordinator.imports.engine import Column, ImportRun, Row
from coordinator.imports.kinds.base import Kind, referenced_patient
from coordinator.imports.kinds.stays import check_invalid, patients_of, report
from coordinator.stays import services
from coordinator.stays.models import (
    EVENT_TYPES,
    IMMUNIZATION_CODES,
    ClinicalEvent,
    StaySource,
)


class EventsKind(Kind):
    name = "events"
    label = _l("Clinical events")
    columns = (
        Column("external_id", text_for(ClinicalEvent.external_id), required=True),
        Column("patient_external_id", text(), required=True),
        Column("event_type", choice(EVENT_TYPES), required=True),
        Column("code", text(40), required=True, note=_l(
            "immunization: %(vaccines)s; diagnosis: an ICD-10 code (I50.9, I509, E11...); "
            "ed_visit: %(ed)s; lab_result: the test's code (e.g. hba1c)",
            vaccines=", ".join(IMMUNIZATION_CODES), ed=services.ED_CODE)),
        Column("occurred_on", parse_date, required=True),
        Column("value", decimal),
        Column("label", text_for(ClinicalEvent.label)),
    )
    FIELDS = ("event_type", "code", "occurred_on", "value", "label")

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        patients = patients_of(run, rows)
        items, valid = [], []
        for row in rows:
            patient = referenced_patient(run, row, patients)
            if patient is None:
                continue
            values = {name: row.values.get(name) for name in self.FIELDS if name in run.present}
            if row.invalid:
                check_invalid(run, self, row, patient, values, services.clean_event)
                continue
            items.append(services.EventInput(patient, values, row.values["external_id"]))
            valid.append(row)
        if items:
            outcomes = services.record_events(run.session, items, source=StaySource.CSV,
                                              actor=run.actor, audited=False)
            report(run, self, valid, outcomes, "clinical_event")


KIND = EventsKind()
