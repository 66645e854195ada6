"""The demo registry's hospital side: stays for about a third of the level-2/3 patients with
readmissions, a death at discharge, patients in hospital now, ICD-10 diagnoses, ED visits,
immunizations, contacts and the protocol's open tasks — so that every list and score shows
something (the case manager's alerts, LACE, the timeline)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from coordinator import demo
from coordinator.auth import services as auth_services
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.stays import icd10
from coordinator.stays.models import ClinicalEvent, Stay, StayDiagnosis
from coordinator.strata.models import Stratum, StratumAssignment
from coordinator.tasks import alerts
from coordinator.tasks.models import AlertKind, Contact, Task, TaskStatus


@pytest.fixture
def registry(session):
    demo.seed_accounts(session, "pbkdf2:sha256:1000")
    counts = demo.seed_registry(session, patients=600)
    session.commit()
    return counts


def count(*where, model=Stay) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_demo_has_a_readmission_an_open_stay_a_high_lace_and_an_open_task(registry):
    assert count(Stay.readmission_of_id.is_not(None)) >= 1
    assert count(Stay.discharged_at.is_(None), Stay.cancelled_at.is_(None)) >= 1
    assert count(Stay.lace_score >= 10) >= 1
    assert count(Task.status == TaskStatus.OPEN, model=Task) >= 1
    assert registry["stays"] == count() and registry["tasks"] == count(model=Task)
    _stays_are_realistic()
    _events_immunizations_and_contacts()
    _the_case_managers_worklist_shows_every_alert()


def _stays_are_realistic():
    today = local_today()
    followed = set(db.session.scalars(
        select(StratumAssignment.patient_id).join(Stratum)
        .where(Stratum.level >= 2, StratumAssignment.end_date.is_(None))))
    with_stays = set(db.session.scalars(select(Stay.patient_id)))
    share = len(with_stays & followed) / len(followed)
    assert 0.25 < share < 0.45, share
    modes = dict(db.session.execute(select(Stay.admission_mode, func.count())
                                    .group_by(Stay.admission_mode)).all())
    assert modes["emergency"] > modes["planned"] > 0 and modes.get("transfer", 0) >= 1
    # one death at discharge, on the patient's day of death; no stay after a death
    deaths = db.session.execute(select(Stay, Patient.deceased_date).join(Patient).where(
        Stay.discharge_destination == "death")).all()
    assert len(deaths) == 1 and deaths[0][0].discharged_on == deaths[0][1]
    assert count(Patient.deceased_date.is_not(None),
                 Stay.discharged_on > Patient.deceased_date,
                 model=Stay.__table__.join(Patient.__table__)) == 0
    assert count(Stay.admitted_on > today) == 0
    # diagnoses: normalised ICD-10, heart failure, diabetes, COPD and kidney disease among them
    codes = set(db.session.scalars(select(Stay.main_diagnosis))) | \
        set(db.session.scalars(select(StayDiagnosis.code)))
    assert all(icd10.normalize(code) == code for code in codes)
    assert {code[:3] for code in codes} >= {"I50", "E11", "J44", "N18"}
    assert count(Stay.is_index_stay.is_(True)) > count(Stay.readmission_of_id.is_not(None))


def _events_immunizations_and_contacts():
    today = local_today()
    kinds = dict(db.session.execute(select(ClinicalEvent.event_type, func.count())
                                    .group_by(ClinicalEvent.event_type)).all())
    assert {"immunization", "diagnosis", "ed_visit", "lab_result"} <= set(kinds)
    season = date(today.year if today >= date(today.year, 10, 15) else today.year - 1, 10, 15)
    elderly = set(db.session.scalars(select(Patient.id).where(
        Patient.birth_date <= date(season.year - 65, 10, 15), Patient.deceased_date.is_(None))))
    vaccinated = set(db.session.scalars(select(ClinicalEvent.patient_id).where(
        ClinicalEvent.code == "influenza",
        ClinicalEvent.occurred_on >= season - timedelta(days=365))))
    assert vaccinated <= set(db.session.scalars(select(Patient.id).where(
        Patient.birth_date <= date(season.year - 65, 10, 15))))
    assert 0.45 < len(vaccinated & elderly) / len(elderly) < 0.9
    assert count(model=Contact) > 10


def _the_case_managers_worklist_shows_every_alert():
    manager = auth_services.find_user(db.session, "case.manager@demo.test")
    found = alerts.worklist_alerts(db.session, manager, local_today())
    for kind in (AlertKind.ADMITTED, AlertKind.DISCHARGED_WITHOUT_FOLLOWUP,
                 AlertKind.READMITTED):
        assert found[kind], kind
    mine = db.session.scalars(select(Task).where(Task.assignee_id == manager.id)).all()
    assert {task.status for task in mine} >= {TaskStatus.OPEN, TaskStatus.DONE}


def test_a_demo_patients_timeline_shows_their_stays(registry, client):
    manager = auth_services.find_user(db.session, "case.manager@demo.test")
    readmission = db.session.scalars(
        select(Stay).join(Patient).where(Stay.readmission_of_id.is_not(None),
                                         Patient.case_manager_id == manager.id)).first()
    patient_id, stay_id = readmission.patient_id, readmission.id
    client.login(manager.email, demo.DEMO_PASSWORD)
    body = client.get(f"/patients/{patient_id}/timeline",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'data-testid="entry-stay-{stay_id}"' in body
    assert 'data-testid="stay-readmission"' in body and "LACE" in body


def test_a_few_demo_patients_read_english_some_in_the_demo_caseload(registry):
    """Issue #16: their reminders are in English (the patient's language shows)."""
    manager = auth_services.find_user(db.session, "case.manager@demo.test")
    english = count(Patient.language == "en", model=Patient)
    assert 0 < english < count(Patient.language == "fr", model=Patient)
    assert count(Patient.language == "en", Patient.case_manager_id == manager.id,
                 model=Patient) >= 1
