"""The transition-of-care protocol: what a discharge asks of the patient's case manager.

At each discharge to a place of living (every destination but death and transfer: the index
stays of the `readmission_30d` and `followup_7d` metrics) of a patient with a case manager, two
tasks for that case manager, from the Paris day of the discharge:

- a **contact** within 2 working days (Monday to Friday, French public holidays excluded, those
  of the patient's department included: `workdays.py`);
- a **follow-up visit** within 7 days when the stay's LACE score is 10 or more (high risk),
  else within 14 days.

`on_stay_changed` is the provider of the stays' extension point (`stays.changed`, wired in
`coordinator/web.py`), called after every change of a stay with its readmission flags and LACE
already recomputed. It does not act on the change's name alone but brings the stay's tasks in
line with what the stay now is, so that it is idempotent (a resent message, the same extract
imported twice: one task of each kind per stay, a unique constraint) and order-proof:

- discharged to a place of living, within the last 30 days and not followed by another stay:
  the two tasks exist and are open with the due dates of the current discharge date and LACE
  (a corrected discharge moves them; tasks closed by the protocol itself are reopened; tasks a
  person or a contact closed are left alone). A follow-up recorded before the discharge reached
  us resolves them at once;
- discharge cancelled, admission cancelled, destination changed to a transfer: its open tasks
  are cancelled (`stay_cancelled`);
- death (at discharge, or the patient's recorded death): every open task of the patient is
  closed (`deceased`);
- admitted again (any stay admitted after an earlier discharge): the earlier stays' open tasks
  are closed (`readmitted`; the new discharge will bring its own). Cancelling that admission
  reopens them.

Older discharges (history imported in bulk) are recorded without tasks.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.audit.models import AuditAction
from coordinator.core.context import Actor
from coordinator.core.time import local_today, utcnow
from coordinator.core.workdays import add_working_days, subdivision_for
from coordinator.patients.models import Patient
from coordinator.stays.models import DischargeDestination, Stay
from coordinator.tasks import services
from coordinator.tasks.models import Task, TaskKind, TaskResolution, TaskStatus

CONTACT_WORKING_DAYS = 2
LACE_HIGH_RISK = 10
VISIT_DAYS_HIGH_RISK = 7
VISIT_DAYS = 14
HORIZON_DAYS = 30  # a discharge older than this is history: no task
NOT_LIVING_PLACES = (DischargeDestination.DEATH, DischargeDestination.TRANSFER)
# Closures the protocol makes, and may undo when the stay changes again.
PROTOCOL_CLOSURES = (TaskResolution.STAY_CANCELLED, TaskResolution.READMITTED,
                     TaskResolution.DECEASED)
ACTOR = Actor.system("protocol")


def due_dates(discharge_day: date, lace_score: int | None,
              postal_code: str | None = None) -> dict[TaskKind, date]:
    """The due date of each task of a discharge on `discharge_day` (a Paris day). A LACE score
    not known (yet) counts as below 10: the visit is due within 14 days."""
    high_risk = lace_score is not None and lace_score >= LACE_HIGH_RISK
    return {
        TaskKind.DISCHARGE_CONTACT: add_working_days(discharge_day, CONTACT_WORKING_DAYS,
                                                     subdivision_for(postal_code)),
        TaskKind.DISCHARGE_VISIT: discharge_day + timedelta(
            days=VISIT_DAYS_HIGH_RISK if high_risk else VISIT_DAYS),
    }


def on_stay_changed(session: Session, stay: Stay, change: str, *,
                    today: date | None = None) -> None:
    """Provider of `stays.services.STAY_CHANGED`: bring the tasks in line with the stay (and
    the patient's other stays) as they are now. `change` names what happened ("admitted",
    "discharged", "discharge_cancelled", "cancelled", "updated"); the outcome depends on the
    stay's state only, so any order of messages ends the same."""
    today = today or local_today()
    session.flush()
    patient = session.get(Patient, stay.patient_id)
    if patient is None or patient.merged_into_id is not None:
        return  # a merged-away record keeps nothing (its stays move with the merge)
    stays = list(session.scalars(select(Stay).where(Stay.patient_id == patient.id)
                                 .order_by(Stay.admitted_at, Stay.id)))
    tasks = list(session.scalars(select(Task).where(Task.patient_id == patient.id)
                                 .order_by(Task.id)))
    if patient.deceased_date is not None or any(
            s.cancelled_at is None and s.discharge_destination == DischargeDestination.DEATH
            for s in stays):
        _close(session, [t for t in tasks if t.status == TaskStatus.OPEN],
               TaskResolution.DECEASED)
        return
    by_stay: dict[int, list[Task]] = {}
    for task in tasks:
        if task.stay_id is not None:
            by_stay.setdefault(task.stay_id, []).append(task)
    # Every stay of the patient: a change of one changes the others' state too (an admission
    # closes the earlier stays' tasks; its cancellation reopens them).
    reopened_or_created = False
    for current in stays:
        reopened_or_created |= _reconcile(session, patient, current, stays,
                                          by_stay.get(current.id, []), today)
    if reopened_or_created:
        services.resolve_open_tasks(session, ACTOR, [patient.id])


def _readmitted_after(stay: Stay, stays: list[Stay]) -> bool:
    """Another stay of the patient (not cancelled) admitted after this one's discharge."""
    assert stay.discharged_at is not None
    return any(other.id != stay.id and other.cancelled_at is None and
               other.admitted_at >= stay.discharged_at for other in stays)


def _reconcile(session: Session, patient: Patient, stay: Stay, stays: list[Stay],
               tasks: list[Task], today: date) -> bool:
    """The tasks of one stay as its state asks; True when a task was created or reopened."""
    open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
    if stay.cancelled_at is not None or stay.discharged_at is None or \
            stay.discharge_destination in NOT_LIVING_PLACES:
        _close(session, open_tasks, TaskResolution.STAY_CANCELLED)
        return False
    if _readmitted_after(stay, stays):
        _close(session, open_tasks, TaskResolution.READMITTED)
        return False
    discharge_day = services.paris_day(stay.discharged_at)
    if patient.case_manager_id is None or discharge_day < today - timedelta(days=HORIZON_DAYS):
        return False
    dues = due_dates(discharge_day, stay.lace_score, patient.postal_code)
    existing = {task.kind: task for task in tasks}
    changed = False
    for kind, due_on in dues.items():
        task = existing.get(kind)
        if task is None:
            task = Task(kind=kind, patient_id=patient.id, assignee_id=patient.case_manager_id,
                        stay_id=stay.id, window_start=discharge_day, due_on=due_on,
                        status=TaskStatus.OPEN)
            session.add(task)
            session.flush()
            services.audit_task(session, ACTOR, AuditAction.CREATE, task,
                                f"{kind} due {due_on.isoformat()} (stay {stay.id})")
            changed = True
        elif task.status == TaskStatus.OPEN:
            if (task.window_start, task.due_on) != (discharge_day, due_on):
                task.window_start, task.due_on = discharge_day, due_on
                session.flush()
                services.audit_task(session, ACTOR, AuditAction.UPDATE, task,
                                    f"due {due_on.isoformat()} (discharge changed)")
                changed = True
        elif task.status == TaskStatus.CANCELLED and task.resolution in PROTOCOL_CLOSURES:
            task.status, task.resolution = TaskStatus.OPEN, None
            task.resolved_at = task.resolved_by = None
            task.window_start, task.due_on = discharge_day, due_on
            task.assignee_id = patient.case_manager_id
            session.flush()
            services.audit_task(session, ACTOR, AuditAction.UPDATE, task,
                                f"reopened, due {due_on.isoformat()}")
            changed = True
    return changed


def _close(session: Session, tasks: list[Task], resolution: TaskResolution) -> None:
    """The protocol closes open tasks that no longer apply (status cancelled: not done)."""
    for task in tasks:
        task.status, task.resolution = TaskStatus.CANCELLED, resolution
        task.resolved_at, task.resolved_by = utcnow(), ACTOR.label
        session.flush()
        services.audit_task(session, ACTOR, AuditAction.UPDATE, task, f"closed: {resolution}")
