"""The rules of tasks, contacts and alert acknowledgements.

A task resolves by itself when what it asks for has happened, whichever way it was recorded:

- a **contact task** by any contact recorded with the patient from the first day of its window
  (the discharge day): a call that reached the patient, but also an attempt (no answer, a
  message left, a wrong number, a refusal). The protocol asks that someone *tries* within two
  working days; the outcome stays on the contact, shown with the task, and the worklist keeps
  alerting on a patient discharged without a contact that reached them (`alerts.py`);
- a **visit task** by an attended appointment starting from the first day of its window (any
  kind, any provider: the `followup_7d` metric counts the same), or by a visit of the case
  manager recorded as a contact that reached the patient.

Late counts too: an overdue task stays open until it is done, and what is done late resolves it
(its `due_on` and the resolving contact or appointment tell whether it was on time). One
function (`resolve_open_tasks`) decides for the three ways in: a contact recorded, outcomes
recorded (the scheduling extension point, every path), tasks created or reopened by the
protocol (a discharge entered after the follow-up happened).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core.bounds import date_problem, text_problem
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, ValidationError, raise_problems
from coordinator.core.rows import rowcount
from coordinator.core.time import PARIS, NonexistentLocalTime, as_utc, utcnow
from coordinator.patients.models import Patient
from coordinator.scheduling.models import Appointment, AppointmentStatus
from coordinator.stays.models import Stay
from coordinator.tasks.models import (
    AlertAcknowledgement,
    AlertKind,
    Contact,
    ContactChannel,
    ContactOutcome,
    Task,
    TaskKind,
    TaskResolution,
    TaskStatus,
)

NOTE_MAX = 2000
# A contact may be recorded a little ahead of the server's clock (a device a minute fast).
CLOCK_TOLERANCE = timedelta(minutes=5)
# A contact of these outcomes reached the patient (for the alerts: "without a contact").
REACHING = (ContactOutcome.REACHED, ContactOutcome.REFUSED)
# What a person may close a task as.
CLOSING = (TaskStatus.DONE, TaskStatus.CANCELLED)


def paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def audit_task(session: Session, actor: Actor, action: str, task: Task, summary: str) -> None:
    audit.record(session, actor, action, "task", task.id, patient_id=task.patient_id,
                 summary=summary)


# -- Contacts ------------------------------------------------------------------------------------

def _note(value: Any, field: str, problems: list, *, required: bool = False) -> str | None:
    note = value.strip() if isinstance(value, str) else None
    if not note:
        if required:
            problems.append((field, _l("Write a note saying why.")))
        return None
    if len(note) > NOTE_MAX:
        problems.append((field, _l("At most %(max)d characters.", max=NOTE_MAX)))
    elif text_problem(note):
        problems.append((field, text_problem(note)))
    return note


def clean_contact(patient: Patient, data: dict, now: datetime) -> dict:
    """A contact's values checked: a known channel and outcome, a moment (a date-time without a
    zone is Paris time) not in the future, not before the patient's birth nor after the day
    of their death; a note of at most 2,000 characters. Raises ValidationError naming the
    fields."""
    problems: list = []
    channel, outcome = data.get("channel"), data.get("outcome")
    if channel not in tuple(ContactChannel):
        problems.append(("channel", _l("Choose a phone call, a visit, a teleconsultation or a "
                                       "message.")))
    if outcome not in tuple(ContactOutcome):
        problems.append(("outcome", _l("Choose reached, no answer, left a message, wrong "
                                       "number or refused.")))
    occurred_at = data.get("occurred_at") or now
    moment: datetime | None = None
    if not isinstance(occurred_at, datetime):
        problems.append(("occurred_at", _l("Give the date and time.")))
    elif date_problem(occurred_at):
        problems.append(("occurred_at", date_problem(occurred_at)))
    else:
        try:
            moment = as_utc(occurred_at)
        except NonexistentLocalTime:
            problems.append(("occurred_at", _l("This time does not exist in Paris (the clocks "
                                               "go forward that night): choose another one.")))
    if moment is not None:
        day = paris_day(moment)
        if moment > now + CLOCK_TOLERANCE:
            problems.append(("occurred_at", _l("A contact is recorded once it has happened: "
                                               "not in the future.")))
        elif day < patient.birth_date:
            problems.append(("occurred_at", _l("The patient was born on %(date)s.",
                                               date=patient.birth_date.isoformat())))
        elif patient.deceased_date is not None and day > patient.deceased_date:
            problems.append(("occurred_at", _l("The patient died on %(date)s.",
                                               date=patient.deceased_date.isoformat())))
    note = _note(data.get("note"), "note", problems)
    raise_problems(problems)
    assert moment is not None
    return {"channel": ContactChannel(str(channel)), "outcome": ContactOutcome(str(outcome)),
            "occurred_at": moment, "note": note}


def record_contact(session: Session, actor: Actor, patient: Patient, data: dict) -> Contact:
    """Record a contact with the patient (or the attempt) and resolve the tasks it answers."""
    if patient.merged_into_id is not None:
        raise ValidationError({"patient_id": [_l("Unknown patient.")]})
    values = clean_contact(patient, data, utcnow())
    contact = Contact(patient_id=patient.id, user_id=actor.user_id, **values)
    session.add(contact)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, "contact", contact.id,
                 patient_id=patient.id, summary=f"contact {contact.channel} {contact.outcome}")
    resolve_open_tasks(session, actor, [patient.id])
    return contact


def contacts_of(session: Session, patient_id: int, limit: int = 20) -> list[Contact]:
    """The patient's latest contacts, with who recorded them."""
    return list(session.scalars(
        select(Contact).options(joinedload(Contact.user))
        .where(Contact.patient_id == patient_id)
        .order_by(Contact.occurred_at.desc(), Contact.id.desc()).limit(limit)))


# -- Resolution by what happened ----------------------------------------------------------------

def _answers(task: Task, contact: Contact) -> bool:
    if paris_day(contact.occurred_at) < task.window_start:
        return False
    if task.kind == TaskKind.DISCHARGE_CONTACT:
        return True
    return task.kind == TaskKind.DISCHARGE_VISIT and contact.channel == ContactChannel.VISIT \
        and contact.outcome == ContactOutcome.REACHED


def _resolve(session: Session, actor: Actor, task: Task, *, contact: Contact | None = None,
             appointment: Appointment | None = None) -> None:
    task.status = TaskStatus.DONE
    if contact is not None:
        task.resolution, task.contact_id = TaskResolution.CONTACT, contact.id
        task.resolved_at = contact.occurred_at
        summary = f"resolved by contact {contact.id} ({contact.outcome})"
    else:
        assert appointment is not None
        task.resolution, task.appointment_id = TaskResolution.APPOINTMENT, appointment.id
        task.resolved_at = appointment.starts_at
        summary = f"resolved by attended appointment {appointment.id}"
    task.resolved_by = actor.label
    session.flush()
    audit_task(session, actor, AuditAction.UPDATE, task, summary)


def resolve_open_tasks(session: Session, actor: Actor, patient_ids: Collection[int]) -> int:
    """Resolve the open tasks of these patients that a recorded contact or an attended
    appointment answers (the earliest one from the task's first day). Three queries whatever
    the number of patients and tasks; returns how many were resolved."""
    if not patient_ids:
        return 0
    tasks = list(session.scalars(
        select(Task).where(Task.patient_id.in_(list(patient_ids)),
                           Task.status == TaskStatus.OPEN)
        .order_by(Task.id)))
    if not tasks:
        return 0
    # A day early in UTC: the Paris day of each row is compared below.
    since = as_utc(datetime.combine(min(t.window_start for t in tasks), datetime.min.time())) \
        - timedelta(days=1)
    patients = {task.patient_id for task in tasks}
    contacts = list(session.scalars(
        select(Contact).where(Contact.patient_id.in_(patients), Contact.occurred_at >= since)
        .order_by(Contact.occurred_at, Contact.id)))
    appointments = list(session.scalars(
        select(Appointment).where(Appointment.patient_id.in_(patients),
                                  Appointment.status == AppointmentStatus.ATTENDED,
                                  Appointment.starts_at >= since)
        .order_by(Appointment.starts_at, Appointment.id)))
    resolved = 0
    for task in tasks:
        contact = next((c for c in contacts
                        if c.patient_id == task.patient_id and _answers(task, c)), None)
        appointment = None
        if task.kind == TaskKind.DISCHARGE_VISIT:
            appointment = next((a for a in appointments if a.patient_id == task.patient_id
                                and paris_day(a.starts_at) >= task.window_start), None)
        if appointment is not None and (contact is None or
                                        appointment.starts_at <= contact.occurred_at):
            _resolve(session, actor, task, appointment=appointment)
        elif contact is not None:
            _resolve(session, actor, task, contact=contact)
        else:
            continue
        resolved += 1
    return resolved


def on_outcomes_recorded(session: Session, actor: Actor,
                         appointment_ids: Collection[int]) -> None:
    """Provider of `scheduling.services.APPOINTMENT_OUTCOME`: the patients with an attended
    appointment among these have their visit tasks resolved."""
    patient_ids = set(session.scalars(
        select(Appointment.patient_id).where(Appointment.id.in_(list(appointment_ids)),
                                             Appointment.status == AppointmentStatus.ATTENDED)))
    resolve_open_tasks(session, actor, patient_ids)


# -- Closing by hand -----------------------------------------------------------------------------

def close_task(session: Session, actor: Actor, task: Task, status: str, note: Any,
               expected_version: int | None = None) -> Task:
    """A person closes an open task: done (dealt with another way) or cancelled (no longer
    needed), always with a note saying why. Audited."""
    if expected_version is not None and task.version != expected_version:
        raise ConflictError(task.version)
    problems: list = []
    if task.status != TaskStatus.OPEN:
        problems.append(("status", _l("This task is closed already.")))
    elif status not in CLOSING:
        problems.append(("status", _l("Choose done or cancelled.")))
    cleaned = _note(note, "note", problems, required=True)
    raise_problems(problems)
    task.status = TaskStatus(status)
    task.resolution = TaskResolution.MANUAL
    task.resolved_at = utcnow()
    task.resolved_by = actor.label
    task.note = cleaned
    session.flush()
    audit_task(session, actor, AuditAction.UPDATE, task, f"closed by hand: {status}")
    return task


def read_task(session: Session, actor: Actor, task: Task) -> None:
    audit_task(session, actor, AuditAction.READ, task, f"task {task.kind}")


def read_tasks(session: Session, actor: Actor, what: str, shown: int,
               patient_id: int | None = None, details: dict | None = None, *,
               patients: Iterable[int | None] = ()) -> None:
    """Showing a list of tasks or alerts shows patient data: one entry per patient shown
    (`patient_id` for one patient's page, else `patients`, those of the page's rows)."""
    audit.record_shown(session, actor, what, [patient_id] if patient_id is not None else patients,
                       summary=f"{shown} row(s)", details=details)


# -- Alert acknowledgements ----------------------------------------------------------------------

def acknowledge_alert(session: Session, actor: Actor, kind: str, stay: Stay,
                      note: Any = None) -> AlertAcknowledgement:
    """Hide a worklist alert about this stay (idempotent: acknowledging it again keeps the
    first acknowledgement). Audited."""
    problems: list = []
    if kind not in tuple(AlertKind):
        problems.append(("kind", _l("Unknown alert.")))
    cleaned = _note(note, "note", problems)
    raise_problems(problems)
    existing = _acknowledgement(session, kind, stay.id)
    if existing is not None:
        return existing
    acknowledgement = AlertAcknowledgement(kind=AlertKind(kind), patient_id=stay.patient_id,
                                           stay_id=stay.id, acknowledged_by_id=actor.user_id,
                                           note=cleaned)
    try:
        with session.begin_nested():
            session.add(acknowledgement)
            session.flush()
    except IntegrityError:  # acknowledged at the same moment by someone else
        found = _acknowledgement(session, kind, stay.id)
        assert found is not None
        return found
    audit.record(session, actor, AuditAction.CREATE, "alert_acknowledgement",
                 acknowledgement.id, patient_id=stay.patient_id,
                 summary=f"alert {kind} on stay {stay.id} acknowledged")
    return acknowledgement


def _acknowledgement(session: Session, kind: str, stay_id: int) -> AlertAcknowledgement | None:
    return session.scalar(select(AlertAcknowledgement).where(
        AlertAcknowledgement.kind == kind, AlertAcknowledgement.stay_id == stay_id))


# -- What lower domains show (extension points, wired in coordinator/web.py) --------------------

def record_page_context(session: Session, patient: Patient) -> dict:
    """What the patient's record shows of tasks and contacts (provider of the record page):
    the open tasks first, then the latest ones; the latest contacts."""
    tasks = list(session.scalars(
        select(Task).options(joinedload(Task.assignee), joinedload(Task.contact))
        .where(Task.patient_id == patient.id)
        .order_by((Task.status == TaskStatus.OPEN).desc(), Task.due_on.desc(), Task.id.desc())
        .limit(20)))
    return {"patient_tasks": tasks, "patient_contacts": contacts_of(session, patient.id, 10)}


def move_tasks(session: Session, keep: Patient, merged: Patient) -> dict:
    """At the merge of two records, the merged record's tasks, contacts and alert
    acknowledgements go to the kept one."""
    moved = {}
    for name, model in (("tasks", Task), ("contacts", Contact),
                        ("alert_acknowledgements", AlertAcknowledgement)):
        moved[name] = rowcount(session.execute(update(model)
                                               .where(model.patient_id == merged.id)
                                               .values(patient_id=keep.id)))
    return moved


def tasks_of_stays(session: Session, stay_ids: Iterable[int]) -> list[Task]:
    return list(session.scalars(select(Task).where(Task.stay_id.in_(list(stay_ids)))
                                .order_by(Task.id)))
