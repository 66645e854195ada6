"""The `stays` format: hospital stays from the hospital's own extract, upserted by
`external_id` (the same identifier as the HL7 feed's visit number, PV1-19).

Each batch goes through the one service of stays (`coordinator.stays.services.record_stays`),
which the pages, the API and the HL7 feed call too: the same checks (discharge before
admission, overlapping stays in one facility, ICD-10 shape, dates in bounds, after birth and
not after death), the same writes, then the readmission flags and LACE of the batch's patients
recomputed in SQL and every change announced (a discharge added by a later extract updates the
open stay and starts the transition-of-care protocol). A row identical to the stored stay
changes nothing. A column absent from the file leaves its field as it is; an empty cell clears
it (an empty `discharged_at`: the patient is still in hospital). The checks and writes take a
fixed number of queries per batch; the recomputation one statement per 1,000 patients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coordinator.audit.models import AuditAction
from coordinator.imports.cells import choice, parse_date_or_datetime, text, text_for
from coordinator.imports.engine import Column, ImportRun, Row
from coordinator.imports.kinds.base import Kind, among, referenced_patient, write_audit
from coordinator.patients.models import Patient
from coordinator.stays import services
from coordinator.stays.models import ADMISSION_MODES, DESTINATIONS, Stay, StaySource

# The service names a patient `patient_id`; the file names it by its external id.
RENAMES = {"patient_id": "patient_external_id"}


def patients_of(run: ImportRun, rows: list[Row]) -> dict[str, Patient]:
    """The patients the batch names, by external id (one query)."""
    wanted = {row.values["patient_external_id"] for row in rows
              if row.values.get("patient_external_id")}
    if not wanted:
        return {}
    return {patient.external_id: patient for patient in run.session.scalars(
        select(Patient).where(among(run, Patient.external_id, wanted)))}


def report(run: ImportRun, kind: Kind, rows: Sequence[Row], outcomes: Sequence,
           entity_type: str) -> None:
    """Each outcome of the service on its row: an error on its column (the row's line), or a
    count and, for a write, an audit entry naming the report (written in bulk)."""
    names = {column.name for column in kind.columns}
    written = []
    for row, outcome in zip(rows, outcomes, strict=True):
        if outcome.error is not None:
            for field, messages in outcome.error.errors.items():
                column = RENAMES.get(field, field)
                for message in messages:
                    run.problem(row, column if column in names else None, message)
            continue
        if outcome.result == "unchanged":
            run.unchanged += 1
            continue
        if outcome.result == "created":
            run.created += 1
        else:
            run.updated += 1
        written.append(outcome)
    number = run.report_id
    write_audit(run, [
        {"action": AuditAction.CREATE if outcome.result == "created" else AuditAction.UPDATE,
         "entity_type": entity_type, "entity_id": str(outcome.record.id),
         "patient_id": outcome.record.patient_id,
         "summary": (f"created by import #{number}" if outcome.result == "created" else
                     f"updated by import #{number}: {', '.join(outcome.changed)}")[:500],
         "details": {"import_report_id": number, "fields": outcome.changed,
                     **({"change": outcome.change} if outcome.change else {})}}
        for outcome in written])


def check_invalid(run: ImportRun, kind: Kind, row: Row, patient: Patient, values: dict,
                  clean: Callable) -> None:
    """A row whose cells could not all be read is not written; its other problems are
    reported all the same (the service's checks, without the database's)."""
    names = {column.name for column in kind.columns}
    _cleaned, problems = clean(values, patient)
    for field, message in problems:
        column = RENAMES.get(field, field)
        run.problem(row, column if column in names else None, message)


class StaysKind(Kind):
    name = "stays"
    label = _l("Hospital stays")
    columns = (
        Column("external_id", text_for(Stay.external_id), required=True),
        Column("patient_external_id", text(), required=True),
        Column("facility_finess", text(20)),
        Column("facility_name", text_for(Stay.facility_name), required=True),
        Column("admitted_at", parse_date_or_datetime, required=True),
        Column("discharged_at", parse_date_or_datetime),
        Column("admission_mode", choice(ADMISSION_MODES), required=True),
        Column("discharge_destination", choice(DESTINATIONS)),
        Column("main_diagnosis", text(20)),
    )
    FIELDS = ("facility_finess", "facility_name", "admitted_at", "discharged_at",
              "admission_mode", "discharge_destination", "main_diagnosis")

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        patients = patients_of(run, rows)
        items, valid = [], []
        for row in rows:
            patient = referenced_patient(run, row, patients)
            if patient is None:
                continue
            values = {name: row.values.get(name) for name in self.FIELDS if name in run.present}
            if row.invalid:
                check_invalid(run, self, row, patient, values, services.clean_stay)
                continue
            items.append(services.StayInput(patient, values, row.values["external_id"]))
            valid.append(row)
        if items:
            outcomes = services.record_stays(run.session, items, source=StaySource.CSV,
                                             actor=run.actor, audited=False)
            report(run, self, valid, outcomes, "stay")


KIND = StaysKind()
