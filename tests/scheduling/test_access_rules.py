"""Access rules of the scheduling pages, tested through HTTP so that they hold wherever the
rule lives: whose outcomes a case manager records in bulk, which providers a booking or a
series may use, who opens which calendar and its subscription feeds."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.core.time import PARIS, local_today
from coordinator.core.workdays import next_working_day
from coordinator.extensions import db
from coordinator.patients import assignments
from coordinator.scheduling import feeds
from coordinator.scheduling.models import Appointment, CalendarFeed
from tests import factories
from tests.htmlform import form_fields
from tests.jobs.conftest import make_appointment


def paris(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def appointment_updates() -> int:
    """Audit entries of changed appointments (each recorded outcome writes one)."""
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "appointment", AuditEntry.action == "update"))


# -- Recording a day's outcomes at once --------------------------------------------------------

@pytest.fixture
def yesterday():
    return local_today() - timedelta(days=1)


@pytest.fixture
def mine(case_manager, yesterday):
    """An appointment of yesterday, of a patient of the case manager's caseload."""
    patient = factories.make_patient(case_manager_id=case_manager.id)
    return make_appointment(patient, starts_at=paris(yesterday, 9))


def _post_day(client, day, outcomes: dict):
    data = form_fields(client.get(f"/scheduling/day?date={day}").get_data(as_text=True),
                       "day-form")
    assert data.get("csrf_token"), "no day form"
    data |= {f"outcome-{appointment.id}": status for appointment, status in outcomes.items()}
    return client.post(f"/scheduling/day?date={day}", data=data)


def _unchanged(*appointments) -> None:
    db.session.expire_all()
    for appointment in appointments:
        stored = db.session.get(Appointment, appointment.id)
        assert (stored.status, stored.outcome_recorded_at, stored.outcome_recorded_by) == (
            "scheduled", None, None), appointment.id


def test_bulk_outcomes_of_the_caseload_are_recorded(client, logged_in, case_manager, mine,
                                                    yesterday):
    logged_in(case_manager)
    response = _post_day(client, yesterday, {mine: "attended"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    assert db.session.get(Appointment, mine.id).status == "attended"


def test_bulk_outcomes_of_another_territory_answer_404_and_change_nothing(
        client, logged_in, make_user, case_manager, mine, yesterday):
    theirs = make_appointment(factories.make_patient(
        territory_code="CORNOUAILLE",
        case_manager_id=make_user(role="case_manager", territory_code="CORNOUAILLE").id),
        starts_at=paris(yesterday, 11))
    logged_in(case_manager)
    before = appointment_updates()
    response = _post_day(client, yesterday, {theirs: "no_show"})
    assert response.status_code == 404
    # Mixed with one of the caseload: refused as a whole, the caseload's one unchanged too.
    response = _post_day(client, yesterday, {mine: "attended", theirs: "attended"})
    assert response.status_code == 404
    _unchanged(mine, theirs)
    assert appointment_updates() == before


def test_bulk_outcomes_of_a_merged_away_patient_answer_404(client, logged_in, case_manager,
                                                           mine, yesterday):
    merged = factories.make_patient(case_manager_id=case_manager.id)
    theirs = make_appointment(merged, starts_at=paris(yesterday, 11))
    merged.merged_into_id = mine.patient_id
    db.session.commit()
    logged_in(case_manager)
    assert _post_day(client, yesterday, {theirs: "attended"}).status_code == 404
    _unchanged(theirs)


def test_bulk_outcomes_of_an_unknown_appointment_answer_404(client, logged_in, case_manager,
                                                             mine, yesterday):
    logged_in(case_manager)
    data = form_fields(client.get(f"/scheduling/day?date={yesterday}").get_data(as_text=True),
                       "day-form")
    data |= {f"outcome-{mine.id}": "attended", "outcome-999999": "attended"}
    assert client.post(f"/scheduling/day?date={yesterday}", data=data).status_code == 404
    _unchanged(mine)


@pytest.mark.parametrize("role", ["admin", "council", "gp"])
def test_only_case_managers_record_a_days_outcomes(client, logged_in, make_user, mine,
                                                   yesterday, role):
    logged_in(make_user(role=role))
    assert client.get(f"/scheduling/day?date={yesterday}").status_code == 403
    response = client.post(f"/scheduling/day?date={yesterday}",
                           data={"csrf_token": client.csrf_token("/"),
                                 f"outcome-{mine.id}": "attended"})
    assert response.status_code == 403
    _unchanged(mine)


# -- Which providers a booking and a series may use --------------------------------------------

@pytest.fixture
def patient(case_manager):
    """A patient with the HF-3 template (GP, nurse, dietitian, social worker visits)."""
    gp = factories.make_provider("gp")
    for kind in ("nurse", "dietitian", "social_worker"):
        factories.make_provider(kind)
    patient = factories.make_patient(case_manager_id=case_manager.id, gp_id=gp.id)
    assignments.assign_stratum(db.session, factories.case_plan_actor(case_manager), patient,
                               factories.stratum("HF-3"), local_today() - timedelta(days=3))
    db.session.commit()
    return patient


def _series_page(client, patient) -> str:
    response = client.get(f"/scheduling/patients/{patient.id}/series", query_string={
        "source": f"stratum-{factories.stratum('HF-3').id}",
        "start": (local_today() + timedelta(days=7)).isoformat()})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _series_form(client, patient) -> dict:
    data = form_fields(_series_page(client, patient), "series-form")
    assert data.get("provider-nurse"), "no nurse proposed"
    return data


def proposed(html: str, kind: str) -> set[int]:
    """The providers the series page proposes for one kind."""
    select_ = re.search(rf'<select [^>]*name="provider-{kind}"[^>]*>(.*?)</select>', html, re.S)
    assert select_, f"no choice of {kind}"
    return {int(value) for value in re.findall(r'value="(\d+)"', select_.group(1))}


def booked_with(provider) -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment)
                             .where(Appointment.provider_id == provider.id))


def test_a_series_books_the_chosen_provider_of_the_territory(client, logged_in, case_manager,
                                                             patient):
    chosen = factories.make_provider("nurse")
    logged_in(case_manager)
    data = _series_form(client, patient) | {"provider-nurse": str(chosen.id)}
    response = client.post(f"/scheduling/patients/{patient.id}/series", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    assert booked_with(chosen) == 6  # HF-3: six nurse visits


@pytest.mark.parametrize("intruder", ["another territory's nurse", "a GP as the nurse",
                                      "an inactive nurse"])
def test_a_series_never_books_a_provider_it_may_not_use(client, logged_in, case_manager,
                                                        patient, intruder):
    provider = {
        "another territory's nurse": lambda: factories.make_provider(
            "nurse", territory_code="CORNOUAILLE"),
        "a GP as the nurse": lambda: factories.make_provider("gp"),
        "an inactive nurse": lambda: factories.make_provider("nurse", is_active=False),
    }[intruder]()
    logged_in(case_manager)
    offered = proposed(_series_page(client, patient), "nurse")
    assert offered and provider.id not in offered
    data = _series_form(client, patient) | {"provider-nurse": str(provider.id)}
    response = client.post(f"/scheduling/patients/{patient.id}/series", data=data)
    assert response.status_code == 400
    assert booked_with(provider) == 0
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0  # all or none


def _booking(client, patient) -> tuple[str, dict]:
    path = f"/scheduling/patients/{patient.id}/new"
    when = (datetime.combine(next_working_day(local_today() + timedelta(days=3)), time(10))
            .strftime("%Y-%m-%dT%H:%M"))
    return path, {"csrf_token": client.csrf_token(path), "kind": "home_visit",
                  "starts_at": when, "duration_minutes": 30}


def test_a_single_booking_offers_the_active_providers_of_the_territory(client, logged_in,
                                                                       case_manager, patient):
    elsewhere = factories.make_provider("nurse", territory_code="CORNOUAILLE")
    retired = factories.make_provider("nurse", is_active=False)
    own = factories.make_provider("nurse")
    logged_in(case_manager)
    path, data = _booking(client, patient)
    page = client.get(path).get_data(as_text=True)
    assert f'value="{own.id}"' in page
    assert f'value="{elsewhere.id}"' not in page and f'value="{retired.id}"' not in page
    assert client.post(path, data=data | {"provider_id": retired.id}).status_code == 400
    assert booked_with(retired) == 0
    assert client.post(path, data=data | {"provider_id": own.id}).status_code == 302
    assert booked_with(own) == 1


def test_a_single_booking_refuses_another_territorys_provider(client, logged_in, case_manager,
                                                              patient):
    elsewhere = factories.make_provider("nurse", territory_code="CORNOUAILLE")
    logged_in(case_manager)
    path, data = _booking(client, patient)
    response = client.post(path, data=data | {"provider_id": elsewhere.id})
    assert booked_with(elsewhere) == 0
    assert response.status_code == 400


# -- Who opens which calendar ---------------------------------------------------------------------

@pytest.fixture
def elsewhere():
    """A provider and a patient of another territory (CORNOUAILLE)."""
    return (factories.make_provider("nurse", territory_code="CORNOUAILLE"),
            factories.make_patient(territory_code="CORNOUAILLE"))


def _feeds_of(**owner) -> list[CalendarFeed]:
    return list(db.session.scalars(select(CalendarFeed).filter_by(**owner)))


def test_a_case_manager_opens_the_calendars_of_their_territory(client, logged_in, case_manager):
    provider, patient = factories.make_provider("nurse"), factories.make_patient()
    logged_in(case_manager)
    assert client.get(f"/calendar/provider/{provider.id}").status_code == 200
    assert client.get(f"/calendar/patient/{patient.id}").status_code == 200
    assert client.get("/calendar/caseload").status_code == 200
    token = client.csrf_token("/calendar/caseload")
    assert client.post(f"/calendar/provider/{provider.id}/feeds",
                       data={"csrf_token": token}).status_code == 201
    assert client.post(f"/calendar/patient/{patient.id}/feeds",
                       data={"csrf_token": token}).status_code == 201
    [provider_feed] = _feeds_of(provider_id=provider.id)
    [patient_feed] = _feeds_of(patient_id=patient.id)
    for feed in (provider_feed, patient_feed):
        assert client.post(f"/calendar/feeds/{feed.id}/revoke",
                           data={"csrf_token": token}).status_code == 302
        assert feed.revoked_at is not None


def test_another_territorys_calendars_answer_404_and_their_feeds_stay(client, logged_in,
                                                                       case_manager, elsewhere):
    provider, patient = elsewhere
    actor = factories.case_plan_actor()
    provider_feed, _token = feeds.create_feed(db.session, actor, provider=provider)
    patient_feed, _token = feeds.create_feed(db.session, actor, patient=patient)
    db.session.commit()
    logged_in(case_manager)
    token = client.csrf_token("/calendar/caseload")
    for path in (f"/calendar/provider/{provider.id}", f"/calendar/patient/{patient.id}",
                 f"/calendar/provider/{provider.id}?view=month",
                 f"/calendar/patient/{patient.id}?view=month"):
        assert client.get(path).status_code == 404, path
    for path in (f"/calendar/provider/{provider.id}/feeds",
                 f"/calendar/patient/{patient.id}/feeds",
                 f"/calendar/feeds/{provider_feed.id}/revoke",
                 f"/calendar/feeds/{patient_feed.id}/revoke"):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    db.session.expire_all()
    assert [f.id for f in _feeds_of(provider_id=provider.id)] == [provider_feed.id]
    assert [f.id for f in _feeds_of(patient_id=patient.id)] == [patient_feed.id]
    assert (db.session.get(CalendarFeed, provider_feed.id).revoked_at,
            db.session.get(CalendarFeed, patient_feed.id).revoked_at) == (None, None)


def test_administrators_open_every_calendar_but_have_no_caseload(client, logged_in, admin,
                                                                 elsewhere):
    provider, patient = elsewhere
    logged_in(admin)
    assert client.get(f"/calendar/provider/{provider.id}").status_code == 200
    assert client.get(f"/calendar/patient/{patient.id}").status_code == 200
    assert client.get("/calendar/caseload").status_code == 403


def test_a_merged_away_patients_calendar_answers_404(client, logged_in, case_manager):
    kept, merged = factories.make_patient(), factories.make_patient()
    merged.merged_into_id = kept.id
    db.session.commit()
    logged_in(case_manager)
    assert client.get(f"/calendar/patient/{merged.id}").status_code == 404
    assert client.get(f"/calendar/patient/{kept.id}").status_code == 200


def test_the_caseload_calendar_shows_only_the_case_managers_patients(client, logged_in,
                                                                     make_user, case_manager):
    colleague = make_user(role="case_manager", territory_code="DOUAISIS")
    day = local_today() + timedelta(days=1)
    mine = make_appointment(factories.make_patient(case_manager_id=case_manager.id),
                            starts_at=paris(day, 9))
    theirs = make_appointment(factories.make_patient(case_manager_id=colleague.id),
                              starts_at=paris(day, 10))
    logged_in(case_manager)
    html = client.get(f"/calendar/caseload?date={day}").get_data(as_text=True)
    assert f'data-testid="appointment-{mine.id}"' in html
    assert f'data-testid="appointment-{theirs.id}"' not in html
