"""Issue #16, bug 5: coordinating a plan puts the patient in your caseload. One rule
(`permissions.caseload_rule`: the patient's case manager is me, or I coordinate one of their
active plans) behind the caseload worklist, the caseload calendar, the no-show list, the
outcomes day list, the batch print of my caseload, the alerts and the metrics' caseload."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from coordinator.careplans import printing
from coordinator.core.context import Actor
from coordinator.core.time import as_utc, local_today
from coordinator.extensions import db
from coordinator.patients import worklists as patient_worklists
from coordinator.patients.models import Patient
from coordinator.permissions import caseload_scope, in_caseload
from coordinator.scheduling import calendar
from coordinator.scheduling import services as scheduling
from coordinator.scheduling import worklists as scheduling_worklists
from tests.factories import make_appointment, make_care_plan, make_patient, make_provider


@pytest.fixture
def coordinated(case_manager, make_user):
    """A DOUAISIS patient whose case manager is someone else, with an active plan that
    `case_manager` coordinates, a past no-show and an appointment to come."""
    colleague = make_user(role="case_manager", territory_code="DOUAISIS")
    patient = make_patient(case_manager_id=colleague.id)
    make_care_plan(patient, user=case_manager, status="active", coordinator_id=case_manager.id)
    provider = make_provider()
    today = local_today()
    missed = make_appointment(patient, provider, datetime.combine(
        today - timedelta(days=5), datetime.min.time()).replace(hour=10))
    scheduling.record_outcome(db.session, Actor.system("test"), missed, "no_show")
    coming = make_appointment(patient, provider, datetime.combine(
        today + timedelta(days=3), datetime.min.time()).replace(hour=10))
    db.session.commit()
    return patient, missed, coming, colleague


def test_the_coordinator_has_the_patient_in_their_caseload(session, case_manager, coordinated):
    patient, missed, coming, colleague = coordinated
    assert in_caseload(case_manager, patient) and in_caseload(colleague, patient)
    listed = session.scalars(select(Patient.id).where(caseload_scope(case_manager))).all()
    assert patient.id in listed  # also the metrics' caseload (figures.Scope.caseload_of)
    worklist = session.scalars(patient_worklists.caseload(
        case_manager, patient_worklists.WorklistFilter())).all()
    assert patient in worklist
    today = local_today()
    start = as_utc(datetime.combine(today - timedelta(days=10), datetime.min.time()))
    listing = calendar.caseload_appointments(session, case_manager, start,
                                             start + timedelta(days=20))
    assert {missed.id, coming.id} <= {a.id for a in listing.appointments}
    no_shows = session.execute(scheduling_worklists.no_shows(case_manager, today)).all()
    assert [a.id for a, _streak in no_shows] == [missed.id]
    plans = printing.plans_to_print(session, case_manager, caseload=True, plan_ids=[])
    assert [plan.patient_id for plan in plans] == [patient.id]


def test_a_plan_no_longer_active_or_coordinated_by_another_does_not_count(
        session, case_manager, make_user):
    other = make_user(role="case_manager", territory_code="DOUAISIS")
    by_other = make_patient()
    make_care_plan(by_other, user=other, status="active", coordinator_id=other.id)
    closed = make_patient()
    make_care_plan(closed, user=case_manager, status="closed", coordinator_id=case_manager.id)
    draft = make_patient()
    make_care_plan(draft, user=case_manager, coordinator_id=case_manager.id)
    listed = set(session.scalars(select(Patient.id).where(caseload_scope(case_manager))))
    assert not listed & {by_other.id, closed.id, draft.id}
    assert not in_caseload(case_manager, closed)


def test_another_territory_stays_out_even_when_coordinating(session, case_manager,
                                                           other_case_manager, coordinated):
    patient = coordinated[0]
    assert patient.id not in session.scalars(
        select(Patient.id).where(caseload_scope(other_case_manager))).all()
    assert not in_caseload(other_case_manager, patient)
