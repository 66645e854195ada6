"""Everything the registry holds about one patient, for their right of access (Code de la santé
publique, L1111-7: the request is answered within 8 days), and the two exports of it.

`gather` reads it in a constant number of statements whatever the number of rows (one per kind,
`selectinload` for the collections of plans and stays): the identity with its territory, GP
and case manager; the consent history; the strata; the care plans with their assessments,
goals, actions, care team, revisions and comments; the appointments and follow-up rounds; the
stays with their diagnoses; the clinical events; the tasks, contacts and acknowledged alerts;
a summary of the HL7 messages about them; their calendar feeds; the messages written to them
(the outbox); and the access log: every audit entry written under their id or under the id of a
record merged into theirs (who read, printed, exported or changed what, and when).

The document (`Export.document`) is plain JSON: each section a list of objects whose keys are
the columns of the domain's table (dates and instants ISO 8601, instants in UTC), except for
what is not the patient's data or would open other doors: the folded search keys and row
versions, a feed's token digest, an HL7 message's raw text and acknowledgement (the summary
names the message; the raw text is read on request by the administrators), and in the access
log the staff's IP address and the entries' technical details. Its structure is described in
docs/patients-rights.md; `FORMAT` names its version.

Who may export: administrators only (`permissions.can_export_patient_record`): the access
request is answered by the registry's administrators (the data controller's), and the export
names the staff in the access log. Each export is audited (`export`, with its format and the
number of rows of each section), and a failed PDF writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import render_template
from flask_babel import get_locale
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, joinedload, selectinload

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction, AuditEntry
from coordinator.careplans.models import (
    CarePlan,
    CarePlanAction,
    CarePlanComment,
    CarePlanGoal,
    CarePlanMember,
    CarePlanRevision,
)
from coordinator.careplans.printing import stamp_text
from coordinator.core.context import Actor
from coordinator.core.time import utcnow
from coordinator.hl7.models import Hl7Message
from coordinator.outbox.models import OutboxMessage
from coordinator.patients import merge
from coordinator.patients.forms import IDENTITY_CHOICES
from coordinator.patients.models import ConsentEvent, Patient
from coordinator.printing import pdf as pdfs
from coordinator.printing import services as printing
from coordinator.rights import labels
from coordinator.scheduling.models import Appointment, CalendarFeed, FollowUpRound
from coordinator.stays.models import ClinicalEvent, Stay
from coordinator.strata.models import StratumAssignment
from coordinator.tasks.models import AlertAcknowledgement, Contact, Task

FORMAT = "coordinator.patient-export/1"
LEGAL_BASIS = "Code de la santé publique, article L1111-7"

# Columns that are not the patient's data, or would open other doors (module docstring).
_LEFT_OUT = {
    Patient: {"birth_name_folded", "used_name_folded", "first_name_folded", "version"},
    CalendarFeed: {"token_hash"},
    Hl7Message: {"raw", "ack"},
    AuditEntry: {"ip_address", "details"},
}
# The sections of the document, in order (the PDF shows them in this order too).
SECTIONS = ("consent_history", "strata", "care_plans", "appointments", "followup_rounds",
            "stays", "clinical_events", "tasks", "contacts", "alert_acknowledgements",
            "hl7_messages", "calendar_feeds", "messages", "access_log")


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _row(obj: Any, **extra: Any) -> dict[str, Any]:
    """The columns of a row (less those left out), then `extra`."""
    left_out = _LEFT_OUT.get(type(obj), set())
    values = {column.key: _value(getattr(obj, column.key))
              for column in inspect(type(obj)).column_attrs if column.key not in left_out}
    return values | extra


def _name(user: Any) -> str | None:
    return user.full_name if user is not None else None


@dataclass
class Held:
    """What the registry holds about one patient, loaded (the PDF's template reads it)."""

    patient: Patient
    merged_ids: list[int]
    consents: list[ConsentEvent]
    strata: list[StratumAssignment]
    plans: list[CarePlan]
    revisions: dict[int, list[CarePlanRevision]]
    comments: dict[int, list[CarePlanComment]]
    appointments: list[Appointment]
    rounds: list[FollowUpRound]
    stays: list[Stay]
    events: list[ClinicalEvent]
    tasks: list[Task]
    contacts: list[Contact]
    acknowledgements: list[AlertAcknowledgement]
    hl7_messages: list[Hl7Message]
    feeds: list[CalendarFeed]
    messages: list[OutboxMessage]
    access_log: list[AuditEntry]

    def counts(self) -> dict[str, int]:
        return {"consent_history": len(self.consents), "strata": len(self.strata),
                "care_plans": len(self.plans), "appointments": len(self.appointments),
                "followup_rounds": len(self.rounds), "stays": len(self.stays),
                "clinical_events": len(self.events), "tasks": len(self.tasks),
                "contacts": len(self.contacts),
                "alert_acknowledgements": len(self.acknowledgements),
                "hl7_messages": len(self.hl7_messages), "calendar_feeds": len(self.feeds),
                "messages": len(self.messages), "access_log": len(self.access_log)}


def gather(session: Session, patient: Patient) -> Held:
    """Everything held about `patient`, one statement per kind (about 25 in all, plus one per
    generation of records merged into theirs), whatever the number of rows."""
    pid = patient.id
    patient = session.scalars(select(Patient).where(Patient.id == pid).options(
        joinedload(Patient.territory), joinedload(Patient.gp),
        joinedload(Patient.case_manager))).one()
    ids = merge.alias_ids(session, patient)
    plans = list(session.scalars(
        select(CarePlan).where(CarePlan.patient_id == pid).options(
            joinedload(CarePlan.coordinator), joinedload(CarePlan.stratum),
            selectinload(CarePlan.assessments),
            selectinload(CarePlan.goals).selectinload(CarePlanGoal.actions)
            .selectinload(CarePlanAction.provider),
            selectinload(CarePlan.team).selectinload(CarePlanMember.provider))
        .order_by(CarePlan.plan_number)))
    plan_ids = [plan.id for plan in plans] or [-1]
    revisions: dict[int, list[CarePlanRevision]] = {}
    for revision in session.scalars(select(CarePlanRevision).where(
            CarePlanRevision.plan_id.in_(plan_ids))
            .order_by(CarePlanRevision.plan_id, CarePlanRevision.number)):
        revisions.setdefault(revision.plan_id, []).append(revision)
    comments: dict[int, list[CarePlanComment]] = {}
    for comment in session.scalars(select(CarePlanComment).where(
            CarePlanComment.plan_id.in_(plan_ids))
            .order_by(CarePlanComment.plan_id, CarePlanComment.created_at, CarePlanComment.id)):
        comments.setdefault(comment.plan_id, []).append(comment)
    return Held(
        patient=patient, merged_ids=[other for other in ids if other != pid],
        consents=list(session.scalars(select(ConsentEvent).where(ConsentEvent.patient_id == pid)
                                      .order_by(ConsentEvent.recorded_at, ConsentEvent.id))),
        strata=list(session.scalars(
            select(StratumAssignment).where(StratumAssignment.patient_id == pid)
            .options(joinedload(StratumAssignment.program), joinedload(StratumAssignment.stratum))
            .order_by(StratumAssignment.program_id, StratumAssignment.effective_date))),
        plans=plans, revisions=revisions, comments=comments,
        appointments=list(session.scalars(
            select(Appointment).where(Appointment.patient_id == pid)
            .options(joinedload(Appointment.provider))
            .order_by(Appointment.starts_at, Appointment.id))),
        rounds=list(session.scalars(select(FollowUpRound).where(FollowUpRound.patient_id == pid)
                                    .order_by(FollowUpRound.created_at, FollowUpRound.id))),
        stays=list(session.scalars(
            select(Stay).where(Stay.patient_id == pid).options(selectinload(Stay.diagnoses))
            .order_by(Stay.admitted_at, Stay.id))),
        events=list(session.scalars(select(ClinicalEvent).where(ClinicalEvent.patient_id == pid)
                                    .order_by(ClinicalEvent.occurred_on, ClinicalEvent.id))),
        tasks=list(session.scalars(select(Task).where(Task.patient_id == pid)
                                   .options(joinedload(Task.assignee))
                                   .order_by(Task.due_on, Task.id))),
        contacts=list(session.scalars(select(Contact).where(Contact.patient_id == pid)
                                      .options(joinedload(Contact.user))
                                      .order_by(Contact.occurred_at, Contact.id))),
        acknowledgements=list(session.scalars(
            select(AlertAcknowledgement).where(AlertAcknowledgement.patient_id == pid)
            .order_by(AlertAcknowledgement.acknowledged_at, AlertAcknowledgement.id))),
        hl7_messages=list(session.scalars(
            select(Hl7Message).where(Hl7Message.patient_id == pid)
            .order_by(Hl7Message.received_at, Hl7Message.id))),
        feeds=list(session.scalars(select(CalendarFeed).where(CalendarFeed.patient_id == pid)
                                   .order_by(CalendarFeed.created_at, CalendarFeed.id))),
        messages=list(session.scalars(select(OutboxMessage).where(OutboxMessage.patient_id == pid)
                                      .order_by(OutboxMessage.created_at, OutboxMessage.id))),
        access_log=list(session.scalars(audit.filtered_query(
            audit.AuditFilter(patient_ids=tuple(ids))))),
    )


def document(held: Held, generated_by: str) -> dict[str, Any]:
    """The export as plain JSON data (its structure: docs/patients-rights.md)."""
    patient = held.patient
    return {
        "format": FORMAT,
        "legal_basis": LEGAL_BASIS,
        "generated_at": utcnow().isoformat(),
        "generated_by": generated_by,
        "patient": _row(
            patient, territory=patient.territory.name,
            gp=patient.gp.name if patient.gp else None,
            case_manager=_name(patient.case_manager),
            merged_records=held.merged_ids),
        "consent_history": [_row(row) for row in held.consents],
        "strata": [_row(row, program=row.program.code,
                        stratum=row.stratum.code if row.stratum else None)
                   for row in held.strata],
        "care_plans": [_row(
            plan, coordinator=_name(plan.coordinator),
            stratum=plan.stratum.code if plan.stratum else None,
            assessments=[_row(row) for row in plan.assessments],
            goals=[_row(goal, actions=[
                _row(action, provider=action.provider.name if action.provider else None)
                for action in goal.actions]) for goal in plan.goals],
            team=[_row(member, provider=member.provider.name) for member in plan.team],
            revisions=[_row(row) for row in held.revisions.get(plan.id, [])],
            comments=[_row(row) for row in held.comments.get(plan.id, [])],
        ) for plan in held.plans],
        "appointments": [_row(row, provider=row.provider.name) for row in held.appointments],
        "followup_rounds": [_row(row) for row in held.rounds],
        "stays": [_row(row, diagnoses=[diagnosis.code for diagnosis in row.diagnoses])
                  for row in held.stays],
        "clinical_events": [_row(row) for row in held.events],
        "tasks": [_row(row, assignee=_name(row.assignee)) for row in held.tasks],
        "contacts": [_row(row, user=_name(row.user)) for row in held.contacts],
        "alert_acknowledgements": [_row(row) for row in held.acknowledgements],
        "hl7_messages": [_row(row) for row in held.hl7_messages],
        "calendar_feeds": [_row(row) for row in held.feeds],
        "messages": [_row(row) for row in held.messages],
        "access_log": [_row(row) for row in held.access_log],
    }


@dataclass(frozen=True)
class Exported:
    content: bytes
    filename: str
    mimetype: str


def _audit_export(session: Session, actor: Actor, held: Held, kind: str) -> None:
    patient = held.patient
    audit.record(session, actor, AuditAction.EXPORT, "patient", patient.id,
                 patient_id=patient.id,
                 summary=f"right of access: everything held, {kind} ({get_locale()})",
                 details={"format": kind, "sections": held.counts()})


def export_json(session: Session, actor: Actor, patient: Patient) -> Exported:
    """The JSON export of everything held about `patient` (audited; the caller commits)."""
    held = gather(session, patient)
    content = json.dumps(document(held, actor.label), ensure_ascii=False, indent=2)
    _audit_export(session, actor, held, "json")
    return Exported(content.encode("utf-8"), f"patient-{patient.id}-export.json",
                    "application/json")


def export_html(held: Held, generated_by: str) -> str:
    """The readable export, in the current language (the reader's)."""
    return render_template("rights/export.html", held=held, patient=held.patient,
                           generated_at=utcnow(), generated_by=generated_by,
                           legal_basis=LEGAL_BASIS, action_labels=labels.ACTION_LABELS,
                           record_labels=labels.RECORD_LABELS,
                           identity_labels=dict(IDENTITY_CHOICES))


def export_pdf(session: Session, actor: Actor, patient: Patient, reader_name: str,
               time_limit: float | None) -> Exported:
    """The readable PDF of everything held about `patient`, in the current language (audited;
    the caller commits). Rendered by `printing` within `time_limit` seconds (None: no limit,
    the command line) and never cached: each export differs (its access log grows), and a
    cached copy would keep the whole record for a month. `pdf.PrintFailed` when it cannot be
    rendered now: nothing is written then."""
    held = gather(session, patient)
    rendered = printing.render_uncached(export_html(held, reader_name), time_limit)
    _audit_export(session, actor, held, "pdf")
    return Exported(pdfs.stamp(rendered, _stamp(reader_name)),
                    f"patient-{patient.id}-export.pdf", "application/pdf")


def _stamp(reader_name: str) -> str:
    return stamp_text(reader_name)
