"""Tasks resolve by what they ask for: a contact recorded (any outcome, kept) for the contact
task, an attended appointment for the visit task, through the real scheduling service on every
path (one outcome, a day's list, the import); or by hand, with a note."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.errors import ConflictError, ValidationError
from coordinator.extensions import db
from coordinator.scheduling import services as scheduling
from coordinator.tasks import services
from coordinator.tasks.models import (
    Contact,
    ContactChannel,
    ContactOutcome,
    TaskKind,
    TaskResolution,
    TaskStatus,
)
from tests import factories
from tests.imports.conftest import run
from tests.tasks.conftest import discharge, tasks_of

CONTACT, VISIT = TaskKind.DISCHARGE_CONTACT, TaskKind.DISCHARGE_VISIT
FRIDAY = date(2026, 7, 10)


@pytest.fixture
def stay(patient):
    return discharge(patient, FRIDAY, lace=12)


@pytest.fixture
def gp():
    return factories.make_provider("gp", external_id="PRV-GP-1")


def contact(actor, patient, when: datetime, outcome=ContactOutcome.NO_ANSWER,
            channel=ContactChannel.PHONE, note=None) -> Contact:
    recorded = services.record_contact(db.session, actor, patient, {
        "occurred_at": when, "channel": channel, "outcome": outcome, "note": note})
    db.session.commit()
    return recorded


def book(actor, patient, provider, starts_at: datetime):
    appointment = factories.make_appointment(patient, provider, starts_at, actor=actor,
                                             overlap_reason=None, duration_minutes=30)
    db.session.commit()
    return appointment


def test_any_contact_resolves_the_contact_task_and_keeps_its_outcome(actor, patient, stay):
    recorded = contact(actor, patient, datetime(2026, 7, 13, 9, 15),
                       outcome=ContactOutcome.NO_ANSWER, note="Messagerie pleine")
    tasks = tasks_of(stay)
    done = tasks[CONTACT]
    assert (done.status, done.resolution, done.contact_id) == \
        (TaskStatus.DONE, TaskResolution.CONTACT, recorded.id)
    assert done.contact.outcome == ContactOutcome.NO_ANSWER
    assert done.resolved_at == recorded.occurred_at
    assert done.resolved_by == actor.label
    assert tasks[VISIT].status == TaskStatus.OPEN  # a phone call is no visit
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type.in_(("contact", "task")), AuditEntry.action != "read")
        .order_by(AuditEntry.id)).all()
    assert [(e.entity_type, e.action) for e in entries][-2:] == \
        [("contact", "create"), ("task", "update")]


@pytest.mark.parametrize("outcome", list(ContactOutcome))
def test_every_outcome_counts(actor, patient, stay, outcome):
    contact(actor, patient, datetime(2026, 7, 15, 17, 0), outcome=outcome)
    assert tasks_of(stay)[CONTACT].status == TaskStatus.DONE


def test_a_contact_before_the_discharge_day_does_not(actor, patient, stay):
    contact(actor, patient, datetime(2026, 7, 9, 18, 0), outcome=ContactOutcome.REACHED)
    assert tasks_of(stay)[CONTACT].status == TaskStatus.OPEN


def test_a_late_contact_still_resolves_the_overdue_task(actor, patient, stay):
    contact(actor, patient, datetime(2026, 7, 20, 10, 0))
    done = tasks_of(stay)[CONTACT]
    assert done.status == TaskStatus.DONE and done.resolved_at.date() > done.due_on


def test_a_visit_that_reached_the_patient_resolves_both(actor, patient, stay):
    contact(actor, patient, datetime(2026, 7, 14, 15, 0), channel=ContactChannel.VISIT,
            outcome=ContactOutcome.NO_ANSWER)  # nobody home: the visit did not happen
    assert tasks_of(stay)[VISIT].status == TaskStatus.OPEN
    recorded = contact(actor, patient, datetime(2026, 7, 16, 15, 0),
                       channel=ContactChannel.VISIT, outcome=ContactOutcome.REACHED)
    visit = tasks_of(stay)[VISIT]
    assert (visit.status, visit.contact_id) == (TaskStatus.DONE, recorded.id)


def test_an_attended_appointment_resolves_the_visit_task(actor, patient, stay, gp):
    appointment = book(actor, patient, gp, datetime(2026, 7, 16, 10, 0))
    assert tasks_of(stay)[VISIT].status == TaskStatus.OPEN  # booked is not done
    scheduling.record_outcome(db.session, actor, db.session.get(type(appointment),
                                                                 appointment.id), "attended")
    db.session.commit()
    visit = tasks_of(stay)[VISIT]
    assert (visit.status, visit.resolution, visit.appointment_id) == \
        (TaskStatus.DONE, TaskResolution.APPOINTMENT, appointment.id)
    assert visit.resolved_at == appointment.starts_at
    assert tasks_of(stay)[CONTACT].status == TaskStatus.OPEN  # an appointment is no call


@pytest.mark.parametrize("status", ["no_show", "cancelled_patient", "cancelled_provider"])
def test_other_outcomes_do_not(actor, patient, stay, gp, status):
    appointment = book(actor, patient, gp, datetime(2026, 7, 16, 10, 0))
    scheduling.record_outcome(db.session, actor, appointment, status)
    db.session.commit()
    assert tasks_of(stay)[VISIT].status == TaskStatus.OPEN


def test_an_appointment_before_the_discharge_day_does_not(actor, patient, stay, gp):
    appointment = book(actor, patient, gp, datetime(2026, 7, 9, 10, 0))
    scheduling.record_outcome(db.session, actor, appointment, "attended")
    db.session.commit()
    assert tasks_of(stay)[VISIT].status == TaskStatus.OPEN


def test_a_late_visit_resolves_the_overdue_task(actor, patient, stay, gp):
    appointment = book(actor, patient, gp, datetime(2026, 7, 30, 10, 0))  # due on the 17th
    scheduling.record_outcome(db.session, actor, appointment, "attended")
    db.session.commit()
    assert tasks_of(stay)[VISIT].status == TaskStatus.DONE


def test_a_days_list_resolves_them_all_at_once(actor, case_manager, gp):
    patients = [factories.make_patient(case_manager_id=case_manager.id) for _ in range(3)]
    stays = [discharge(p, FRIDAY, lace=3) for p in patients]
    booked = [book(actor, p, gp, datetime(2026, 7, 15, 9 + i, 0))
              for i, p in enumerate(patients)]
    scheduling.record_outcomes(db.session, actor, {a.id: "attended" for a in booked[:2]} |
                               {booked[2].id: "no_show"})
    db.session.commit()
    assert [tasks_of(s)[VISIT].status for s in stays] == \
        [TaskStatus.DONE, TaskStatus.DONE, TaskStatus.OPEN]


def test_the_appointments_import_resolves_them(session, actor, patient, stay, gp):
    patient.external_id = "PAT-T1"
    session.commit()
    header = "external_id,patient_external_id,provider_external_id,starts_at,status\n"
    report = run(session, "appointments", header +
                 "APT-T1,PAT-T1,PRV-GP-1,2026-07-15T10:00,scheduled\n")
    assert report.status == "succeeded", report.errors
    assert tasks_of(stay)[VISIT].status == TaskStatus.OPEN
    report = run(session, "appointments", header +
                 "APT-T1,PAT-T1,PRV-GP-1,2026-07-15T10:00,attended\n")  # the outcome later
    assert report.status == "succeeded", report.errors
    visit = tasks_of(stay)[VISIT]
    assert (visit.status, visit.resolution, visit.resolved_by) == \
        (TaskStatus.DONE, TaskResolution.APPOINTMENT, "test")


def test_an_import_of_history_with_its_outcome_resolves_them(session, patient, stay, gp):
    patient.external_id = "PAT-T2"
    session.commit()
    report = run(session, "appointments",
                 "external_id,patient_external_id,provider_external_id,starts_at,status\n"
                 "APT-T2,PAT-T2,PRV-GP-1,2026-07-14T16:00,attended\n")
    assert report.status == "succeeded", report.errors
    assert tasks_of(stay)[VISIT].status == TaskStatus.DONE


# -- By hand ------------------------------------------------------------------------------------

def test_closing_by_hand_needs_a_note_and_is_audited(actor, stay):
    task = tasks_of(stay)[VISIT]
    with pytest.raises(ValidationError) as refused:
        services.close_task(db.session, actor, task, "done", "   ")
    assert "note" in refused.value.messages()
    db.session.rollback()
    task = tasks_of(stay)[VISIT]
    services.close_task(db.session, actor, task, "done", "Vu par son médecin le 15/07",
                        task.version)
    db.session.commit()
    task = tasks_of(stay)[VISIT]
    assert (task.status, task.resolution, task.note, task.resolved_by) == \
        (TaskStatus.DONE, TaskResolution.MANUAL, "Vu par son médecin le 15/07", actor.label)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "task")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.summary == "closed by hand: done" and entry.entity_id == str(task.id)


def test_closing_a_closed_or_changed_task_is_refused(actor, stay):
    task = tasks_of(stay)[CONTACT]
    with pytest.raises(ConflictError):
        services.close_task(db.session, actor, task, "cancelled", "Plus utile",
                            task.version - 1)
    services.close_task(db.session, actor, task, "cancelled", "Plus utile")
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        services.close_task(db.session, actor, tasks_of(stay)[CONTACT], "done", "Encore")
    assert "status" in refused.value.messages()
    with pytest.raises(ValidationError) as refused:
        services.close_task(db.session, actor, tasks_of(stay)[VISIT], "open", "Non")
    assert "status" in refused.value.messages()


# -- Contacts: bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("data, field", [
    ({"channel": "pigeon"}, "channel"),
    ({"outcome": "maybe"}, "outcome"),
    ({"occurred_at": datetime(2999, 1, 1, 10, 0)}, "occurred_at"),
    ({"occurred_at": datetime.now() + timedelta(days=2)}, "occurred_at"),
    ({"occurred_at": datetime(1940, 1, 1, 10, 0)}, "occurred_at"),  # before birth
    ({"occurred_at": datetime(2026, 3, 29, 2, 30)}, "occurred_at"),  # skipped in Paris
    ({"note": "x" * 2001}, "note"),
    ({"note": "nul \x00 here"}, "note"),
])
def test_a_bad_contact_names_its_field_and_writes_nothing(actor, patient, data, field):
    values = {"occurred_at": datetime(2026, 7, 13, 10, 0), "channel": "phone",
              "outcome": "reached"} | data
    with pytest.raises(ValidationError) as refused:
        services.record_contact(db.session, actor, patient, values)
    assert field in refused.value.messages()
    db.session.rollback()
    assert db.session.scalars(select(Contact)).all() == []


def test_no_contact_after_the_death_day(actor, patient):
    patient.deceased_date = date(2026, 7, 1)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        services.record_contact(db.session, actor, patient, {
            "occurred_at": datetime(2026, 7, 2, 10, 0), "channel": "phone",
            "outcome": "reached"})
    assert "occurred_at" in refused.value.messages()


def test_a_merge_moves_tasks_and_contacts(actor, patient, stay):
    contact(actor, patient, datetime(2026, 7, 13, 9, 0))
    kept = factories.make_patient(case_manager_id=patient.case_manager_id)
    moved = services.move_tasks(db.session, kept, patient)
    db.session.commit()
    assert moved == {"tasks": 2, "contacts": 1, "alert_acknowledgements": 0}
    assert {t.patient_id for t in tasks_of(stay).values()} == {kept.id}
