"""The timeline page runs as many statements for 50 entries of each kind as for 5 (one or two
queries per kind, no lazy load in its templates)."""

from __future__ import annotations

from datetime import timedelta

from coordinator.auth.models import User
from coordinator.careplans.models import CarePlanRevision
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling.models import AppointmentStatus
from coordinator.stays import lace, readmissions
from coordinator.stays.models import Stay, StayDiagnosis
from coordinator.tasks.models import TaskKind, TaskStatus
from tests import factories
from tests.timeline.conftest import TODAY, appointment, contact, paris, stratum, task

START = TODAY - timedelta(days=3000)


def add(ids: dict, first: int, count: int) -> None:
    """`count` entries of every kind more, numbered from `first` (one every 10 days back)."""
    patient, user, gp = (db.session.get(Patient, ids["patient"]),
                         db.session.get(User, ids["user"]), db.session.get(Provider, ids["gp"]))
    for number in range(first, first + count):
        day = TODAY - timedelta(days=10 * number + 5)
        stay = Stay(patient_id=patient.id, facility_name=f"CH {number}",
                    admitted_at=paris(day - timedelta(days=3), 9), discharged_at=paris(day, 15),
                    admission_mode="emergency" if number % 2 else "planned",
                    discharge_destination="home", main_diagnosis="I50.9", created_by="test",
                    diagnoses=[StayDiagnosis(code="E11.9", position=1)])
        db.session.add(stay)
        appointment(patient, gp, day - timedelta(days=1),
                    AppointmentStatus.NO_SHOW if number % 3 else AppointmentStatus.ATTENDED)
        contact(patient, user, day - timedelta(days=2))
        task(patient, user, day, kind=TaskKind.DISCHARGE_VISIT,
             status=TaskStatus.DONE if number % 2 else TaskStatus.OPEN)
        db.session.add(CarePlanRevision(plan_id=ids["plan"], number=100 + number, event="edited",
                                        created_at=paris(day, 12), author_label="test",
                                        changed=["priorities"], snapshot={}))
    db.session.flush()
    readmissions.recompute(db.session, [patient.id])
    lace.refresh(db.session, None)
    db.session.commit()


def strata(ids: dict, first: int, count: int) -> None:
    """Stratum changes move forward in time: the earliest ones first."""
    patient = db.session.get(Patient, ids["patient"])
    for number in range(first, first + count):
        stratum(patient, "HF-2" if number % 2 else "HF-3", START + timedelta(days=5 * number))


def test_the_timeline_page_does_not_grow_with_its_entries(client, logged_in, case_manager,
                                                          count_queries):
    patient = factories.make_patient(case_manager_id=case_manager.id)
    plan = factories.make_care_plan(patient, user=case_manager)
    gp = factories.make_provider("gp")
    logged_in(case_manager)
    ids = {"patient": patient.id, "user": case_manager.id, "plan": plan.id, "gp": gp.id}
    path = f"/patients/{patient.id}/timeline?start={START.isoformat()}"
    add(ids, 1, 5)
    strata(ids, 1, 5)
    assert client.get(path).status_code == 200  # warm-up
    with count_queries() as small:
        small_page = client.get(path).get_data(as_text=True)
    add(ids, 6, 45)
    strata(ids, 6, 45)
    with count_queries() as large:
        large_page = client.get(path).get_data(as_text=True)
    assert small_page.count('data-testid="entry-') == 6 * 5 + 1  # and the plan's creation
    assert large_page.count('data-testid="entry-') == 6 * 50 + 1
    assert small.count == large.count, f"5:\n{small.report()}\n\n50:\n{large.report()}"
    # user, patient, 9 reads (stratum corrections included), the audit entry and the chain
    # head it takes (2 statements), and the patient banner (tests/patients/test_banner.py:
    # current strata, a plan overdue, recent no-shows, the last consent event)
    assert small.count <= 14 + 4, small.report()
