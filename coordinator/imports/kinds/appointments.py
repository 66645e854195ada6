"""The `appointments` format: appointments upserted by `external_id`, with their outcome.

An import records history from another system: a past appointment may come with its outcome,
and overlaps are not refused (they happened). The rules of one appointment are the booking
service's, written once in `coordinator.scheduling.rules` and applied here to the values of a
batch (the engine looks up a whole batch's patients and providers with one query per
reference). A changed status follows the lifecycle: an outcome is recorded on a scheduled
appointment only, and never changed afterwards.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coordinator import permissions
from coordinator.imports.cells import choice, integer, parse_datetime, text, text_for
from coordinator.imports.engine import Column, ImportRun, Row
from coordinator.imports.kinds.base import (
    Planned,
    Reference,
    UpsertKind,
    among,
    in_scope,
    referenced_patient,
    unknown_reference,
)
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling import rules, services
from coordinator.scheduling.models import (
    APPOINTMENT_KINDS,
    STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
)

OUTCOME_FIELDS = ("outcome_recorded_at", "outcome_recorded_by")


class AppointmentsKind(UpsertKind):
    name = "appointments"
    label = _l("Appointments")
    model = Appointment
    audit_entity = "appointment"
    fetch = ("patient_id", "duration_minutes", "status", *OUTCOME_FIELDS)
    references = (
        Reference("patient_external_id", Patient,
                  ("id", "territory_id", "merged_into_id", "birth_date", "deceased_date")),
        Reference("provider_external_id", Provider, ("id", "is_active", "territory_id")),
    )
    columns = (
        Column("external_id", text_for(Appointment.external_id), required=True,
               fields=("external_id",)),
        Column("patient_external_id", text(), required=True, fields=("patient_id",)),
        Column("provider_external_id", text(), required=True, fields=("provider_id",)),
        Column("starts_at", parse_datetime, required=True, fields=("starts_at", "ends_at")),
        Column("duration_minutes", integer(), fields=("duration_minutes",)),
        Column("kind", choice(APPOINTMENT_KINDS), fields=("kind",)),
        Column("status", choice(STATUSES), fields=("status", *OUTCOME_FIELDS)),
    )

    def build(self, run: ImportRun, row: Row, refs: dict, current) -> dict:
        """The row's values, checked as the service checks a booking (overlaps aside)."""
        cells, present = row.values, run.present
        patient = referenced_patient(run, row, refs["patient_external_id"])
        values = {"external_id": cells["external_id"],
                  "patient_id": patient.id if patient is not None else None,
                  "provider_id": self._provider(run, row, refs["provider_external_id"]),
                  "starts_at": cells["starts_at"]}
        self._check_alive(run, row, patient)
        provider = refs["provider_external_id"].get(cells["provider_external_id"]) \
            if cells["provider_external_id"] is not None else None
        if patient is not None and provider is not None and values["provider_id"] is not None \
                and not permissions.provider_serves(provider, patient.territory_id):
            run.problem(row, "provider_external_id",
                        _l("This provider works in another territory: choose one of the "
                           "patient's territory."))
        duration = self._duration(run, row, current)
        if "duration_minutes" in present:
            values["duration_minutes"] = duration
        if cells["starts_at"] is not None and duration is not None:
            values["ends_at"] = cells["starts_at"] + timedelta(minutes=duration)
        if "kind" in present:
            values["kind"] = cells["kind"] or AppointmentKind.CONSULTATION
        if "status" in present:
            values.update(self._status(run, row, current))
        self._check_history(run, row, values, current)
        return values

    @staticmethod
    def _check_history(run: ImportRun, row: Row, values: dict, current) -> None:
        """An outcome is for an appointment that has started; an appointment that has its
        outcome keeps its time, provider and patient (history is not rewritten)."""
        if current is None or current["status"] == AppointmentStatus.SCHEDULED:
            too_early = rules.too_early_problem(values.get("status"), values.get("starts_at"),
                                                run.now)
            if too_early:
                run.problem(row, "status", too_early)
        if current is not None:
            name = rules.rewritten_history(current["status"], current, values)
            if name is not None:
                run.problem(row, name.replace("_id", "_external_id")
                            if name != "starts_at" else name, rules.REWRITTEN_HISTORY)

    @staticmethod
    def _provider(run: ImportRun, row: Row, providers: dict) -> int | None:
        """A provider of the directory, active (as for a booking)."""
        if row.values["provider_external_id"] is None:
            return None
        provider = providers.get(row.values["provider_external_id"])
        if provider is None:
            unknown_reference(run, row, "provider_external_id")
            return None
        if rules.provider_problem(provider):
            run.problem(row, "provider_external_id", rules.provider_problem(provider))
        return provider.id

    @staticmethod
    def _duration(run: ImportRun, row: Row, current) -> int | None:
        """From 1 minute to 12 hours; an empty cell is 30 minutes; without the column, an
        existing appointment keeps its own."""
        if "duration_minutes" not in run.present and current is not None:
            return current["duration_minutes"]
        if "duration_minutes" in (row.failed or ()):
            return None
        duration = row.values.get("duration_minutes")
        duration = rules.DEFAULT_MINUTES if duration is None else duration
        if rules.duration_problem(duration):
            run.problem(row, "duration_minutes", rules.duration_problem(duration))
            return None
        return duration

    @staticmethod
    def _check_alive(run: ImportRun, row: Row, patient) -> None:
        """Not before the patient's birth nor after their death, at most two years ahead."""
        if patient is None:
            return
        problem = rules.starts_at_problem(row.values["starts_at"], birth_date=patient.birth_date,
                                          deceased_date=patient.deceased_date, now=run.now)
        if problem:
            run.problem(row, "starts_at", problem)

    @staticmethod
    def _status(run: ImportRun, row: Row, current) -> dict:
        """The status (empty: scheduled) with who recorded the outcome and when. A stored
        appointment keeps its record of the outcome; its status changes along the lifecycle
        only (scheduled → an outcome)."""
        status = row.values["status"] or AppointmentStatus.SCHEDULED
        if current is not None and current["status"] == status:
            return {"status": status, **{name: current[name] for name in OUTCOME_FIELDS}}
        if current is not None and not rules.may_become(current["status"], status):
            run.problem(row, "status",
                        _l("The appointment is %(current)s: it cannot become %(wanted)s (an "
                           "outcome is recorded once, on a scheduled appointment).",
                           current=current["status"], wanted=status))
        if status == AppointmentStatus.SCHEDULED:
            return {"status": status, "outcome_recorded_at": None, "outcome_recorded_by": None}
        return {"status": status, "outcome_recorded_at": run.now,
                "outcome_recorded_by": run.actor.label}

    def check_batch(self, run: ImportRun, planned: list[Planned]) -> None:
        """A case manager updates only the appointments of their territory's patients (one
        query for the batch)."""
        if run.options.territory_id is None:
            return
        stored = {plan.current["patient_id"] for plan in planned if plan.current is not None}
        if not stored:
            return
        territories = dict(run.session.execute(
            select(Patient.id, Patient.territory_id).where(among(run, Patient.id, stored))).all())
        for plan in planned:
            if plan.current is not None and not in_scope(
                    run, territories.get(plan.current["patient_id"])):
                run.problem(plan.row, "external_id",
                            _l("This external_id is a record of another territory: ask an "
                               "administrator."))

    def after_write(self, run: ImportRun, created: list[Planned],
                    updated: list[Planned]) -> None:
        """The outcomes this batch recorded (a new appointment with its outcome, a scheduled one
        given its outcome) are announced as the service announces its own, once per batch:
        an attended visit resolves the tasks waiting for it."""
        recorded = [plan.id for plan in created
                    if plan.values.get("status", AppointmentStatus.SCHEDULED)
                    != AppointmentStatus.SCHEDULED]
        recorded += [plan.id for plan in updated if "status" in plan.changed]
        services.outcomes_recorded(run.session, run.actor,
                                   [record_id for record_id in recorded if record_id is not None])

    def creation_defaults(self, run: ImportRun) -> dict:
        return {"created_by": run.actor.label}

    def audit_patient_id(self, plan: Planned) -> int | None:
        return plan.values["patient_id"]


KIND = AppointmentsKind()
