"""Stays and events by hand, from the patient's record: the "Hospital stays" section with its
readmission marks and LACE (a query count that does not grow with the rows), the forms (every
bad input shown on its field, nothing written), edit conflicts, cancellations, who may."""

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.stays.models import ClinicalEvent, Stay
from tests import factories
from tests.stays.conftest import event, record

EN = {"Accept-Language": "en"}


@pytest.fixture
def patient():
    return factories.make_patient(birth_date=date(1948, 3, 14))


@pytest.fixture
def staff(client, logged_in, case_manager):
    return logged_in(case_manager)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stay_form(client, path, **values) -> dict:
    data = {"csrf_token": client.csrf_token(path), "facility_name": "Centre hospitalier de Douai",
            "facility_finess": "590000021", "location": "", "admitted_at": "2026-03-05T22:10",
            "admission_mode": "emergency", "discharged_at": "2026-03-12T11:00",
            "discharge_destination": "home", "main_diagnosis": "I509", "diagnoses": "E11.9, N18"}
    data.update(values)
    return data


def page(response) -> str:
    return response.get_data(as_text=True)


# -- The record's section ------------------------------------------------------------------------

def test_the_record_shows_stays_with_their_marks_and_lace(client, staff, patient):
    index = record(patient, admitted_at=datetime(2026, 3, 1), discharged_at=datetime(2026, 3, 3))
    readmission = record(patient, admitted_at=datetime(2026, 3, 20, 8),
                         discharged_at=datetime(2026, 3, 27), diagnoses=["E11.2"])
    event(patient, "immunization", "influenza", date(2025, 10, 15))
    body = page(client.get(f"/patients/{patient.id}", headers=EN))
    assert 'id="stays-title"' in body and "Hospital stays" in body
    assert f'data-testid="stay-{index.id}"' in body and "Readmitted on 20/03/2026" in body
    assert "Readmission 17 days after the stay discharged on 03/03/2026" in body
    assert f"LACE {readmission.lace_score}" in body and "high risk" in body
    lace = (f"L {readmission.lace_length} · A 3 · C {readmission.lace_comorbidity} · "
            f"E {readmission.lace_emergency_visits}")
    assert lace in body
    assert "E11.2" in body and "Influenza" in body
    assert f"/stays/{index.id}/edit" in body and f"/stays/patients/{patient.id}/new" in body


def test_the_record_runs_as_many_queries_for_many_stays(client, staff, patient, count_queries):
    def add(number: int, start: int) -> None:
        for month in range(start, start + number):
            record(patient, admitted_at=datetime(2000 + month // 12, month % 12 + 1, 1),
                   discharged_at=datetime(2000 + month // 12, month % 12 + 1, 5),
                   diagnoses=["E11", "N18"])
            event(patient, "ed_visit", "ed", date(2000 + month // 12, month % 12 + 1, 1))

    add(2, 0)
    client.get(f"/patients/{patient.id}")
    with count_queries() as few:
        assert client.get(f"/patients/{patient.id}").status_code == 200
    add(20, 2)
    with count_queries() as many:
        body = page(client.get(f"/patients/{patient.id}"))
    assert body.count('data-testid="stay-') >= 22
    assert many.count == few.count, many.report()


# -- Recording and changing a stay -----------------------------------------------------------------

def test_a_stay_is_recorded_from_the_form(client, staff, patient):
    path = f"/stays/patients/{patient.id}/new"
    assert client.get(path).status_code == 200
    response = client.post(path, data=stay_form(client, path))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/patients/{patient.id}#stays")
    stay = db.session.scalars(select(Stay)).one()
    assert (stay.main_diagnosis, [d.code for d in stay.diagnoses], stay.source) == (
        "I50.9", ["E11.9", "N18"], "form")


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"discharged_at": "2026-03-05T10:00"}, "discharged_at", "before the admission"),
    ({"main_diagnosis": "150.9"}, "main_diagnosis", "not an ICD-10 code"),
    ({"diagnoses": "E11 XYZ"}, "diagnoses", "“XYZ”"),
    ({"admitted_at": "1948-03-13T10:00", "discharged_at": "", "discharge_destination": ""},
     "admitted_at", "born on 1948-03-14"),
    ({"admitted_at": "1899-12-31T10:00"}, "admitted_at", "between 1900-01-01 and 2100-12-31"),
    ({"facility_finess": "12345"}, "facility_finess", "FINESS"),
    ({"discharged_at": ""}, "discharge_destination", "goes with a discharge"),
])
def test_bad_input_is_shown_on_its_field(client, staff, patient, changes, field, words):
    path = f"/stays/patients/{patient.id}/new"
    response = client.post(path, data=stay_form(client, path, **changes), headers=EN)
    assert response.status_code == 400
    body = page(response)
    assert f'id="{field}-error"' in body and words in body
    assert count(Stay) == 0


def test_an_overlap_or_a_stay_after_death_is_shown_on_the_admission(client, staff, patient):
    stored = record(patient)
    path = f"/stays/patients/{patient.id}/new"
    response = client.post(path, data=stay_form(client, path, admitted_at="2026-03-10T08:00",
                                                discharged_at="", discharge_destination=""),
                           headers=EN)
    assert response.status_code == 400 and f"stay #{stored.id}" in page(response)
    patient.deceased_date = date(2026, 4, 1)
    db.session.commit()
    response = client.post(path, data=stay_form(client, path, admitted_at="2026-04-02T08:00",
                                                discharged_at="", discharge_destination=""),
                           headers=EN)
    assert response.status_code == 400 and "died on 2026-04-01" in page(response)
    assert count(Stay) == 1


def test_a_stay_is_changed_audited_and_a_stale_form_is_a_conflict(client, staff, patient):
    stay = record(patient, discharged_at=None, discharge_destination=None)
    path = f"/stays/{stay.id}/edit"
    form_page = page(client.get(path))
    assert 'value="2026-03-05T22:10"' in form_page and 'value="I50.9"' in form_page
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.entity_type == "stay", AuditEntry.action == "read")).patient_id == patient.id
    response = client.post(path, data=stay_form(client, path, version=str(stay.version)))
    assert response.status_code == 302
    db.session.refresh(stay)
    assert stay.discharge_destination == "home" and stay.version == 2
    stale = client.post(path, data=stay_form(client, path, version="1",
                                             main_diagnosis="J44.1"), headers=EN)
    assert stale.status_code == 409 and "changed meanwhile" in page(stale)
    db.session.refresh(stay)
    assert stay.main_diagnosis == "I50.9"


def test_the_discharge_then_the_admission_are_cancelled(client, staff, patient):
    stay = record(patient)
    path = f"/stays/{stay.id}/edit"
    token = client.csrf_token(path)
    response = client.post(f"/stays/{stay.id}/cancel-discharge",
                           data={"csrf_token": token, "version": str(stay.version)})
    assert response.status_code == 302
    db.session.refresh(stay)
    assert stay.discharged_at is None and stay.lace_score is None
    assert client.post(f"/stays/{stay.id}/cancel", data={"version": str(stay.version)}
                       ).status_code == 400  # no CSRF token
    response = client.post(f"/stays/{stay.id}/cancel",
                           data={"csrf_token": token, "version": str(stay.version)})
    assert response.status_code == 302
    db.session.refresh(stay)
    assert stay.cancelled_at is not None
    body = page(client.get(f"/patients/{patient.id}", headers=EN))
    assert 'data-testid="stay-cancelled"' in body


# -- Events ------------------------------------------------------------------------------------

def test_an_event_is_recorded_and_changed_from_the_form(client, staff, patient):
    path = f"/stays/patients/{patient.id}/events/new"
    data = {"csrf_token": client.csrf_token(path), "event_type": "lab_result", "code": "HbA1c",
            "occurred_on": "2026-01-04", "value": "8,9", "label": ""}
    assert client.post(path, data=data).status_code == 302
    recorded = db.session.scalars(select(ClinicalEvent)).one()
    assert (recorded.code, str(recorded.value)) == ("hba1c", "8.9000")
    edit = f"/stays/events/{recorded.id}/edit"
    assert 'value="8.9"' in page(client.get(edit))
    response = client.post(edit, data={**data, "csrf_token": client.csrf_token(edit),
                                       "event_type": "ed_visit", "version": "1"}, headers=EN)
    assert response.status_code == 400
    body = page(response)
    assert 'id="code-error"' in body and 'id="value-error"' in body
    response = client.post(edit, data={**data, "csrf_token": client.csrf_token(edit),
                                       "value": "9.1", "version": "1"})
    assert response.status_code == 302
    db.session.refresh(recorded)
    assert str(recorded.value) == "9.1000"


# -- Who may -----------------------------------------------------------------------------------

def test_only_staff_who_may_open_the_record_use_these_pages(app, patient, other_case_manager,
                                                          council, make_user):
    provider = factories.make_provider("gp")
    patient.gp_id, patient.consent_share = provider.id, True
    db.session.commit()
    stay = record(patient)
    paths = (f"/stays/patients/{patient.id}/new", f"/stays/{stay.id}/edit",
             f"/stays/patients/{patient.id}/events/new")
    for user, status in ((other_case_manager, 404), (council, 403),
                         (make_user(role="gp", provider_id=provider.id), 403)):
        client = app.test_client()
        assert client.login(user.email).status_code == 302
        for path in paths:
            assert client.get(path).status_code == status, (user.role, path)


def test_the_stay_form_names_every_problem_at_once(client, staff, patient):
    """Issue #16: a ward name too long (the form's check), an unknown main diagnosis and an
    overlap with a stay on record (the service's rules, the overlap once asked only when the
    rest was right) in one answer; nothing written."""
    stored = record(patient)
    path = f"/stays/patients/{patient.id}/new"
    response = client.post(path, data=stay_form(
        client, path, admitted_at="2026-03-10T08:00", discharged_at="",
        discharge_destination="", main_diagnosis="150.9", location="x" * 101), headers=EN)
    assert response.status_code == 400
    body = page(response)
    assert 'id="location-error"' in body
    assert 'id="main_diagnosis-error"' in body and "not an ICD-10 code" in body
    assert 'id="admitted_at-error"' in body and f"stay #{stored.id}" in body
    assert count(Stay) == 1
