"""The worklist's alerts, computed live: admitted, discharged without a follow-up, readmitted;
each acknowledged once (audited) and then hidden."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.errors import ValidationError
from coordinator.core.time import local_today, utcnow
from coordinator.extensions import db
from coordinator.scheduling.models import Appointment
from coordinator.tasks import alerts, services
from coordinator.tasks.models import AlertAcknowledgement, AlertKind, ContactOutcome
from tests import factories
from tests.tasks.conftest import make_stay, recent

ADMITTED, WITHOUT, READMITTED = (AlertKind.ADMITTED, AlertKind.DISCHARGED_WITHOUT_FOLLOWUP,
                                 AlertKind.READMITTED)


def shown(user) -> dict[AlertKind, list[int]]:
    found = alerts.worklist_alerts(db.session, user, local_today())
    return {kind: [alert.stay.id for alert in rows] for kind, rows in found.items()}


def discharged(patient, days_ago: int = 2, **extra):
    return make_stay(patient, admitted=recent(days_ago + 3, 9), discharged=recent(days_ago),
                     **extra)


def test_an_admission_of_the_caseload_shows_at_once(case_manager, patient, other_case_manager):
    stay = make_stay(patient, admitted=utcnow() - timedelta(hours=1))
    db.session.commit()
    assert shown(case_manager)[ADMITTED] == [stay.id]
    colleague = factories.make_user(role="case_manager")  # same territory, not their caseload
    assert shown(colleague)[ADMITTED] == []
    assert shown(other_case_manager)[ADMITTED] == []


def test_a_closed_or_cancelled_stay_is_no_admission(case_manager, patient):
    discharged(patient)
    make_stay(patient, admitted=recent(1), cancelled_at=utcnow())
    db.session.commit()
    assert shown(case_manager)[ADMITTED] == []


def test_discharged_without_a_follow_up(case_manager, patient, actor):
    stay = discharged(patient, days_ago=2, lace=11)
    db.session.commit()
    assert shown(case_manager)[WITHOUT] == [stay.id]
    # A call nobody answered is no follow-up: still shown.
    services.record_contact(db.session, actor, patient, {
        "occurred_at": recent(1, 9), "channel": "phone", "outcome": ContactOutcome.NO_ANSWER})
    db.session.commit()
    assert shown(case_manager)[WITHOUT] == [stay.id]
    services.record_contact(db.session, actor, patient, {
        "occurred_at": recent(1, 10), "channel": "phone", "outcome": ContactOutcome.REACHED})
    db.session.commit()
    assert shown(case_manager)[WITHOUT] == []


def test_a_booked_visit_is_a_follow_up(case_manager, patient):
    stay = discharged(patient, days_ago=3)
    nurse = factories.make_provider("nurse")
    visit = Appointment(patient_id=patient.id, provider_id=nurse.id, kind="home_visit",
                        starts_at=utcnow() + timedelta(days=2), duration_minutes=30,
                        ends_at=utcnow() + timedelta(days=2, minutes=30),
                        status="cancelled_patient", created_by="test")
    db.session.add(visit)
    db.session.commit()
    assert shown(case_manager)[WITHOUT] == [stay.id]  # a cancelled visit is none
    visit.status = "scheduled"
    db.session.commit()
    assert shown(case_manager)[WITHOUT] == []


@pytest.mark.parametrize("destination", ["death", "transfer"])
def test_no_follow_up_is_expected_after_death_or_transfer(case_manager, patient, destination):
    discharged(patient, destination=destination)
    db.session.commit()
    assert shown(case_manager)[WITHOUT] == []


def test_only_the_last_seven_days_and_not_when_back_in_hospital(case_manager, patient):
    discharged(patient, days_ago=8)
    kept = discharged(factories.make_patient(case_manager_id=case_manager.id), days_ago=7)
    back = discharged(factories.make_patient(case_manager_id=case_manager.id), days_ago=4)
    again = make_stay(back.patient, admitted=recent(1))
    db.session.commit()
    found = shown(case_manager)
    assert found[WITHOUT] == [kept.id]
    assert found[ADMITTED] == [again.id]


def test_a_readmission_shows(case_manager, patient):
    index = discharged(patient, days_ago=10)
    readmission = make_stay(patient, admitted=recent(2), readmission_of_id=index.id)
    old_index = discharged(patient, days_ago=80)
    make_stay(patient, admitted=recent(45), discharged=recent(40), destination="home",
              readmission_of_id=old_index.id)  # more than 30 days ago
    db.session.commit()
    assert shown(case_manager)[READMITTED] == [readmission.id]


def test_the_active_plan_is_joined_for_its_action(case_manager, patient):
    plan = factories.make_care_plan(patient, status="active")
    make_stay(patient, admitted=recent(1))
    db.session.commit()
    [alert] = alerts.worklist_alerts(db.session, case_manager, local_today())[ADMITTED]
    assert alert.plan_id == plan.id and alert.patient.id == patient.id


def test_an_acknowledged_alert_is_hidden_once_and_audited(case_manager, patient, actor):
    stay = make_stay(patient, admitted=recent(1))
    index = discharged(patient, days_ago=9)
    stay.readmission_of_id = index.id
    db.session.commit()
    assert shown(case_manager)[READMITTED] == [stay.id]
    first = services.acknowledge_alert(db.session, actor, "admitted", stay, "Appel du service")
    again = services.acknowledge_alert(db.session, actor, "admitted", stay)
    db.session.commit()
    assert first.id == again.id
    found = shown(case_manager)
    assert found[ADMITTED] == [] and found[READMITTED] == [stay.id]  # one alert at a time
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "alert_acknowledgement")).all()
    assert [(e.entity_id, e.patient_id, e.actor_label) for e in entries] == \
        [(str(first.id), patient.id, case_manager.email)]
    assert db.session.scalar(select(AlertAcknowledgement.note)) == "Appel du service"


def test_an_unknown_alert_is_refused(actor, patient):
    stay = make_stay(patient, admitted=recent(1))
    with pytest.raises(ValidationError) as refused:
        services.acknowledge_alert(db.session, actor, "gossip", stay)
    assert "kind" in refused.value.messages()
