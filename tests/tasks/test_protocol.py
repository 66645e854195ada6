"""The transition-of-care protocol: two tasks at each discharge to a place of living, due by the
rules, kept in line with the stay whatever happens to it, idempotent."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.tasks import protocol, services
from coordinator.tasks.models import (
    ContactChannel,
    ContactOutcome,
    Task,
    TaskKind,
    TaskResolution,
    TaskStatus,
)
from tests import factories
from tests.tasks.conftest import announce, discharge, make_stay, paris, tasks_of

CONTACT, VISIT = TaskKind.DISCHARGE_CONTACT, TaskKind.DISCHARGE_VISIT
FRIDAY = date(2026, 7, 10)  # Monday 13 is a working day, Tuesday 14 July a holiday


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_discharge_home_makes_two_tasks_for_the_case_manager(patient, case_manager):
    stay = discharge(patient, FRIDAY, lace=12, hour=18)
    tasks = tasks_of(stay)
    assert set(tasks) == {CONTACT, VISIT}
    for task in tasks.values():
        assert (task.status, task.assignee_id, task.patient_id) == \
            (TaskStatus.OPEN, case_manager.id, patient.id)
        assert task.window_start == FRIDAY
    # Contact: 2 working days, over the weekend and 14 July → Wednesday 15.
    assert tasks[CONTACT].due_on == date(2026, 7, 15)
    # LACE 12 ≥ 10: the visit within 7 days.
    assert tasks[VISIT].due_on == date(2026, 7, 17)
    created = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "task", AuditEntry.action == "create")).all()
    assert {entry.entity_id for entry in created} == {str(t.id) for t in tasks.values()}
    assert {entry.actor_label for entry in created} == {"protocol"}


def test_below_ten_the_visit_is_due_within_fourteen_days(patient):
    assert tasks_of(discharge(patient, FRIDAY, lace=9))[VISIT].due_on == date(2026, 7, 24)
    other = factories.make_patient(case_manager_id=patient.case_manager_id)
    assert tasks_of(discharge(other, FRIDAY, lace=10))[VISIT].due_on == date(2026, 7, 17)
    unknown = factories.make_patient(case_manager_id=patient.case_manager_id)
    assert tasks_of(discharge(unknown, FRIDAY, lace=None))[VISIT].due_on == date(2026, 7, 24)


def test_the_discharge_day_is_the_paris_day(patient):
    # 23:30 in Paris on Friday is 21:30 UTC the same day; 00:30 on Saturday is Friday in UTC.
    saturday_night = discharge(patient, date(2026, 7, 11), hour=0, lace=3)
    assert tasks_of(saturday_night)[CONTACT].window_start == date(2026, 7, 11)
    assert tasks_of(saturday_night)[CONTACT].due_on == date(2026, 7, 15)


def test_the_patients_department_brings_its_holidays(case_manager):
    patient = factories.make_patient(case_manager_id=case_manager.id, postal_code="67000")
    stay = discharge(patient, date(2026, 4, 2), lace=2)  # Thursday before Good Friday
    assert tasks_of(stay)[CONTACT].due_on == date(2026, 4, 8)


def test_announcing_again_changes_nothing(patient):
    stay = discharge(patient, FRIDAY, lace=12)
    before = {kind: (task.id, task.version, task.due_on) for kind, task in tasks_of(stay).items()}
    entries = _count(AuditEntry)
    for change in ("discharged", "updated", "discharged"):
        announce(stay, change, FRIDAY)
    after = {kind: (task.id, task.version, task.due_on) for kind, task in tasks_of(stay).items()}
    assert after == before
    assert _count(Task) == 2
    assert _count(AuditEntry) == entries


def test_a_corrected_discharge_moves_the_due_dates(patient):
    stay = discharge(patient, FRIDAY, lace=4)
    stay.discharged_at = paris(date(2026, 7, 13), 11)  # Monday
    stay.lace_score = 11
    announce(stay, "discharged", FRIDAY)
    tasks = tasks_of(stay)
    assert tasks[CONTACT].window_start == date(2026, 7, 13)
    assert tasks[CONTACT].due_on == date(2026, 7, 16)  # Wednesday 15, Thursday 16
    assert tasks[VISIT].due_on == date(2026, 7, 20)
    assert _count(Task) == 2


def test_no_task_after_death_transfer_or_without_a_case_manager(patient):
    assert tasks_of(discharge(patient, FRIDAY, destination="transfer")) == {}
    alone = factories.make_patient()
    assert tasks_of(discharge(alone, FRIDAY)) == {}
    dying = factories.make_patient(case_manager_id=patient.case_manager_id)
    assert tasks_of(discharge(dying, FRIDAY, destination="death")) == {}
    for destination in ("home_with_services", "nursing_home", "rehabilitation", "other"):
        someone = factories.make_patient(case_manager_id=patient.case_manager_id)
        assert len(tasks_of(discharge(someone, FRIDAY, destination=destination))) == 2


def test_an_old_discharge_is_history(patient):
    stay = discharge(patient, FRIDAY, today=FRIDAY + timedelta(days=31))
    assert tasks_of(stay) == {}
    recent = discharge(patient, FRIDAY + timedelta(days=20), today=FRIDAY + timedelta(days=50))
    assert len(tasks_of(recent)) == 2  # 30 days at most


def test_an_open_stay_makes_no_task(patient):
    stay = make_stay(patient, admitted=paris(FRIDAY, 8))
    announce(stay, "admitted", FRIDAY)
    assert tasks_of(stay) == {}


def test_a_cancelled_discharge_cancels_the_open_tasks_and_a_new_one_reopens_them(patient,
                                                                                  actor):
    stay = discharge(patient, FRIDAY, lace=12)
    stay.discharged_at, stay.discharge_destination, stay.lace_score = None, None, None
    announce(stay, "discharge_cancelled", FRIDAY)
    tasks = tasks_of(stay)
    assert {t.status for t in tasks.values()} == {TaskStatus.CANCELLED}
    assert {t.resolution for t in tasks.values()} == {TaskResolution.STAY_CANCELLED}

    stay.discharged_at, stay.discharge_destination = paris(date(2026, 7, 16), 10), "home"
    stay.lace_score = 5
    announce(stay, "discharged", date(2026, 7, 16))
    tasks = tasks_of(stay)
    assert {t.status for t in tasks.values()} == {TaskStatus.OPEN}
    assert {t.resolution for t in tasks.values()} == {None}
    assert tasks[CONTACT].due_on == date(2026, 7, 20)  # Thursday 16 → Friday 17, Monday 20
    assert tasks[VISIT].due_on == date(2026, 7, 30)
    assert _count(Task) == 2


def test_a_cancelled_admission_cancels_them(patient):
    stay = discharge(patient, FRIDAY)
    stay.cancelled_at = utcnow()
    announce(stay, "cancelled", FRIDAY)
    assert {(t.status, t.resolution) for t in tasks_of(stay).values()} == \
        {(TaskStatus.CANCELLED, TaskResolution.STAY_CANCELLED)}


def test_a_readmission_closes_them_and_its_cancellation_reopens_them(patient):
    first = discharge(patient, FRIDAY, lace=12)
    again = make_stay(patient, admitted=paris(date(2026, 7, 13), 22), mode="emergency")
    announce(again, "admitted", date(2026, 7, 13))
    assert {(t.status, t.resolution) for t in tasks_of(first).values()} == \
        {(TaskStatus.CANCELLED, TaskResolution.READMITTED)}

    again.cancelled_at = utcnow()
    announce(again, "cancelled", date(2026, 7, 14))
    tasks = tasks_of(first)
    assert {t.status for t in tasks.values()} == {TaskStatus.OPEN}
    assert tasks[CONTACT].due_on == date(2026, 7, 15)


def test_the_discharge_of_the_readmission_brings_its_own_tasks(patient):
    first = discharge(patient, FRIDAY, lace=12)
    second = discharge(patient, date(2026, 7, 20), days_in=5, lace=14)
    assert {t.resolution for t in tasks_of(first).values()} == {TaskResolution.READMITTED}
    assert {t.status for t in tasks_of(second).values()} == {TaskStatus.OPEN}


def test_death_closes_every_open_task_of_the_patient(patient):
    first = discharge(patient, FRIDAY, lace=12)
    last = make_stay(patient, admitted=paris(date(2026, 7, 12), 9),
                     discharged=paris(date(2026, 7, 13), 9), destination="death")
    announce(last, "discharged", date(2026, 7, 13))
    assert {(t.status, t.resolution) for t in tasks_of(first).values()} == \
        {(TaskStatus.CANCELLED, TaskResolution.DECEASED)}
    assert tasks_of(last) == {}


def test_a_recorded_death_closes_them_at_the_next_change(patient):
    stay = discharge(patient, FRIDAY)
    patient.deceased_date = date(2026, 7, 12)
    db.session.commit()
    announce(stay, "updated", date(2026, 7, 12))
    assert {t.resolution for t in tasks_of(stay).values()} == {TaskResolution.DECEASED}


def test_a_task_done_is_left_alone_when_the_stay_changes(patient, actor):
    stay = discharge(patient, FRIDAY, lace=12)
    services.record_contact(db.session, actor, patient, {
        "occurred_at": datetime(2026, 7, 13, 10, 0), "channel": ContactChannel.PHONE,
        "outcome": ContactOutcome.REACHED})
    db.session.commit()
    stay.discharged_at = paris(date(2026, 7, 11), 10)
    announce(stay, "discharged", FRIDAY)
    tasks = tasks_of(stay)
    assert tasks[CONTACT].status == TaskStatus.DONE
    assert tasks[CONTACT].due_on == date(2026, 7, 15)  # as it was when done
    assert tasks[VISIT].status == TaskStatus.OPEN


def test_a_follow_up_recorded_before_the_discharge_arrived_resolves_at_once(patient, actor):
    # The extract with the discharge of Friday comes on Tuesday; the call was on Monday.
    services.record_contact(db.session, actor, patient, {
        "occurred_at": datetime(2026, 7, 13, 9, 30), "channel": ContactChannel.PHONE,
        "outcome": ContactOutcome.NO_ANSWER})
    db.session.commit()
    stay = discharge(patient, FRIDAY, today=date(2026, 7, 14))
    tasks = tasks_of(stay)
    assert (tasks[CONTACT].status, tasks[CONTACT].resolution) == \
        (TaskStatus.DONE, TaskResolution.CONTACT)
    assert tasks[VISIT].status == TaskStatus.OPEN


def test_a_merged_away_record_gets_nothing(patient):
    kept = factories.make_patient(case_manager_id=patient.case_manager_id)
    patient.merged_into_id = kept.id
    db.session.commit()
    assert tasks_of(discharge(patient, FRIDAY)) == {}


def test_due_dates_rule():
    assert protocol.due_dates(FRIDAY, 10) == {CONTACT: date(2026, 7, 15),
                                              VISIT: date(2026, 7, 17)}
    assert protocol.due_dates(FRIDAY, 9)[VISIT] == date(2026, 7, 24)
