"""/api/v1/appointments: list with filters and scope, read, book (overlaps, Paris time across
the daylight-saving changes), record the outcome with If-Match; audit; OpenAPI."""

from datetime import UTC, date, datetime, timedelta

import pytest

from coordinator.core.context import Actor
from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.scheduling import services
from tests import factories
from tests.api.conftest import assert_page_shape, audit_entries
from tests.factories import make_care_plan, make_patient, make_provider, move_patient

URL = "/api/v1/appointments"
EN = {"Accept-Language": "en"}


def book(patient, provider, starts_at: datetime, **data):
    """An appointment booked through the service (overlaps kept with a reason), when it was
    still to come."""
    appointment = factories.make_appointment(patient, provider, starts_at, **data)
    db.session.commit()
    return appointment


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def body(patient, provider, starts_at: str = "2027-07-01T09:00", **overrides) -> dict:
    return {"patient_id": patient.id, "provider_id": provider.id, "starts_at": starts_at,
            **overrides}


def if_match(appointment: dict) -> dict:
    return {"If-Match": f'"{appointment["id"]}-{appointment["version"]}"', **EN}


def ids(response) -> list[int]:
    return [row["id"] for row in response.json["items"]]


@pytest.fixture
def patient():
    return make_patient()


@pytest.fixture
def provider():
    return make_provider(kind="nurse")


# -- List --------------------------------------------------------------------------------------

def test_list_filters_by_patient_provider_status_and_dates(api, admin, patient, provider):
    other_patient, other_provider = make_patient(), make_provider()
    first = book(patient, provider, utc(2026, 7, 1, 7))
    second = book(patient, other_provider, utc(2026, 7, 2, 21, 30))  # 23:30 in Paris
    third = book(other_patient, provider, utc(2026, 7, 3, 8))
    services.record_outcome(db.session, Actor.system("test"), first, "attended")
    db.session.commit()
    caller = api(admin)

    listed = caller.get(URL)
    assert_page_shape(listed.json, total=3)
    assert ids(listed) == [first.id, second.id, third.id]
    assert listed.json["items"][0]["starts_at"] == "2026-07-01T07:00:00+00:00"
    assert ids(caller.get(URL, query_string={"patient": patient.id})) == [first.id, second.id]
    assert ids(caller.get(URL, query_string={"provider": provider.id})) == [first.id, third.id]
    assert ids(caller.get(URL, query_string={"status": "scheduled"})) == [second.id, third.id]
    # `to` as a date runs to the end of that Paris day; as a date-time it is inclusive.
    assert ids(caller.get(URL, query_string={"to": "2026-07-02"})) == [first.id, second.id]
    assert ids(caller.get(URL, query_string={"from": "2026-07-02", "to": "2026-07-02"})) == [
        second.id]
    assert ids(caller.get(URL, query_string={"from": "2026-07-03T10:00"})) == [third.id]
    assert ids(caller.get(URL, query_string={"to": "2026-07-01T09:00"})) == [first.id]
    assert ids(caller.get(URL, query_string={"to": "2026-07-01T06:59:59Z"})) == []
    page = caller.get(URL, query_string={"per_page": 2, "page": 2}).json
    assert_page_shape(page, total=3, page=2, per_page=2)


def test_bad_filters_answer_422_naming_the_parameter(api, admin):
    caller = api(admin)
    for query, field in [({"status": "done"}, "status"), ({"from": "01/07/2026"}, "from"),
                         ({"to": "2026-13-01"}, "to"), ({"to": "2027-03-28T02:30"}, "to"),
                         ({"per_page": 501}, "per_page")]:
        response = caller.get(URL, query_string=query)
        assert response.status_code == 422, query
        assert list(response.json["errors"]) == [field], query


def test_list_shows_only_the_patients_in_scope(api, case_manager, other_case_manager, gp,
                                               council, provider):
    mine = book(make_patient(), provider, utc(2027, 7, 1, 7))
    book(make_patient(territory_code="CORNOUAILLE"),
         make_provider("nurse", territory_code="CORNOUAILLE"), utc(2027, 7, 1, 9))
    assert ids(api(case_manager).get(URL)) == [mine.id]
    assert api(other_case_manager).get(URL, query_string={"patient": mine.patient_id}
                                       ).json["total"] == 0
    for user in (gp, council):
        assert api(user).get(URL).status_code == 403


def test_search_is_audited_with_its_criteria(api, admin, patient, provider):
    book(patient, provider, utc(2027, 7, 1, 7))
    api(admin).get(URL, query_string={"patient": patient.id, "from": "2027-07-01"})
    entry = audit_entries(entity_type="appointment_search")[-1]
    assert (entry.action, entry.summary, entry.patient_id) == ("read", "1 result(s)", patient.id)
    assert entry.details["criteria"] == {"patient": patient.id, "from": "2027-07-01"}


# -- Read --------------------------------------------------------------------------------------

def test_read_answers_the_etag_and_is_audited(api, case_manager, patient, provider):
    appointment = book(patient, provider, utc(2027, 7, 1, 7), duration_minutes=45,
                       place="Domicile")
    response = api(case_manager).get(f"{URL}/{appointment.id}")
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{appointment.id}-{appointment.version}"'
    assert {key: response.json[key] for key in ("patient_id", "provider_id", "kind", "status",
                                                "duration_minutes", "ends_at", "place")} == {
        "patient_id": patient.id, "provider_id": provider.id, "kind": "consultation",
        "status": "scheduled", "duration_minutes": 45, "ends_at": "2027-07-01T07:45:00+00:00",
        "place": "Domicile"}
    entry = audit_entries(entity_type="appointment", action="read")[-1]
    assert (entry.entity_id, entry.patient_id) == (str(appointment.id), patient.id)


def test_read_of_a_hidden_patient_is_404(api, other_case_manager, gp, patient, provider):
    appointment = book(patient, provider, utc(2027, 7, 1, 7))
    for user in (other_case_manager, gp):
        assert api(user).get(f"{URL}/{appointment.id}").status_code == 404
    assert api(other_case_manager).get(f"{URL}/999999").status_code == 404


# -- Book --------------------------------------------------------------------------------------

def test_booking_answers_201_with_location_and_etag(api, case_manager, patient, provider):
    plan = make_care_plan(patient)
    action_id = plan.goals[0].actions[0].id
    response = api(case_manager).post(URL, json=body(
        patient, provider, kind="home_visit", duration_minutes=45, place=" Domicile ",
        notes="Pansement", action_id=action_id))
    assert response.status_code == 201, response.json
    created = response.json
    assert response.headers["Location"].endswith(f"{URL}/{created['id']}")
    assert response.headers["ETag"] == f'"{created["id"]}-{created["version"]}"'
    assert (created["starts_at"], created["ends_at"], created["kind"], created["place"],
            created["action_id"], created["status"]) == (
        "2027-07-01T07:00:00+00:00", "2027-07-01T07:45:00+00:00", "home_visit", "Domicile",
        action_id, "scheduled")
    entry = audit_entries(entity_type="appointment", action="create")[-1]
    assert (entry.entity_id, entry.patient_id) == (str(created["id"]), patient.id)


def test_an_end_instead_of_a_duration(api, case_manager, patient, provider):
    response = api(case_manager).post(URL, json=body(
        patient, provider, starts_at="2027-01-15T09:00", ends_at="2027-01-15T09:20"))
    assert response.status_code == 201, response.json
    assert (response.json["starts_at"], response.json["duration_minutes"]) == (
        "2027-01-15T08:00:00+00:00", 20)


@pytest.mark.parametrize(("starts_at", "expected"), [
    ("2027-07-01T09:00", "2027-07-01T07:00:00+00:00"),  # summer time
    ("2027-01-15T09:00", "2027-01-15T08:00:00+00:00"),  # winter time
    ("2027-10-31T02:30", "2027-10-31T00:30:00+00:00"),  # repeated: the first occurrence
    ("2027-10-31T02:30:00+01:00", "2027-10-31T01:30:00+00:00"),  # the second, with its offset
    ("2027-03-28T03:30", "2027-03-28T01:30:00+00:00"),  # just after the clocks go forward
])
def test_a_time_without_offset_is_paris_time(api, case_manager, patient, provider, starts_at,
                                             expected):
    response = api(case_manager).post(URL, json=body(patient, provider, starts_at=starts_at,
                                                     allow_non_working_day=True))  # Sundays
    assert response.status_code == 201, response.json
    assert response.json["starts_at"] == expected


def test_invalid_bookings_answer_422_naming_the_field(api, case_manager, patient, provider):
    inactive = make_provider(is_active=False)
    deceased = make_patient(deceased_date=date(2027, 6, 30))
    cases = [
        (body(patient, provider, ends_at="2027-07-01T08:59"), "ends_at"),
        (body(patient, provider, ends_at="2027-07-01T22:00"), "ends_at"),  # 13 hours
        (body(patient, provider, duration_minutes=0), "duration_minutes"),
        (body(patient, provider, duration_minutes=721), "duration_minutes"),
        (body(patient, provider, duration_minutes=30, ends_at="2027-07-01T09:30"), "ends_at"),
        (body(patient, provider, provider_id=999999), "provider_id"),
        (body(patient, inactive), "provider_id"),
        (body(deceased, provider), "starts_at"),
        (body(patient, provider, starts_at="2027-03-28T02:30"), "starts_at"),
        (body(patient, provider, starts_at="tomorrow"), "starts_at"),
        (body(patient, provider, kind="visit"), "kind"),
        (body(patient, provider, action_id=999999), "action_id"),
        ({"provider_id": provider.id, "starts_at": "2027-07-01T09:00"}, "patient_id"),
    ]
    caller = api(case_manager)
    for sent, field in cases:
        response = caller.post(URL, json=sent, headers=EN)
        assert response.status_code == 422, (sent, response.json)
        assert list(response.json["errors"]) == [field], (sent, response.json)
    assert caller.get(URL).json["total"] == 0
    message = caller.post(URL, json=body(patient, provider, starts_at="2027-03-28T02:30"),
                          headers=EN).json["errors"]["starts_at"][0]
    assert "does not exist in Paris" in message


def test_a_patient_the_caller_may_not_open_is_404(api, case_manager, other_case_manager, gp,
                                                  provider):
    hidden = make_patient(territory_code="CORNOUAILLE")
    assert api(case_manager).post(URL, json=body(hidden, provider)).status_code == 404
    patient = make_patient()
    assert api(other_case_manager).post(URL, json=body(patient, provider)).status_code == 404
    assert api(gp).post(URL, json=body(patient, provider)).status_code == 403


def test_an_overlap_answers_409_then_books_with_a_reason(api, case_manager, patient, provider):
    existing = book(patient, provider, utc(2027, 7, 1, 7), duration_minutes=60)
    hidden = book(make_patient(), provider, utc(2027, 7, 1, 7, 30))
    move_patient(db.session.get(Patient, hidden.patient_id), "CORNOUAILLE")
    caller = api(case_manager)
    sent = body(patient, provider, starts_at="2027-07-01T09:30")  # 07:30Z, overlaps both
    response = caller.post(URL, json=sent, headers=EN)
    assert response.status_code == 409
    assert list(response.json["errors"]) == ["overlap_reason"]
    assert response.json["overlaps"] == [
        {"id": existing.id, "starts_at": "2027-07-01T07:00:00+00:00",
         "ends_at": "2027-07-01T08:00:00+00:00", "patient_id": patient.id,
         "provider_id": provider.id},
        {"id": hidden.id, "starts_at": "2027-07-01T07:30:00+00:00",
         "ends_at": "2027-07-01T08:00:00+00:00", "patient_id": None,  # another territory's
         "provider_id": provider.id},
    ]
    assert caller.get(URL).json["total"] == 1

    response = caller.post(URL, json={**sent, "overlap_reason": "Visite conjointe"})
    assert response.status_code == 201, response.json
    assert response.json["overlap_reason"] == "Visite conjointe"


# -- Outcome -----------------------------------------------------------------------------------

def happened(caller, patient, provider) -> dict:
    """An appointment of yesterday (booked when it was to come), as the API reads it: an
    outcome is recorded once it has started."""
    appointment = book(patient, provider, utcnow() - timedelta(days=1))
    return caller.get(f"{URL}/{appointment.id}").json


def status_url(appointment) -> str:
    return f"{URL}/{appointment['id']}/status"


def test_outcome_is_recorded_once(api, case_manager, patient, provider):
    caller = api(case_manager)
    created = happened(caller, patient, provider)
    response = caller.patch(status_url(created), json={"status": "attended"},
                            headers=if_match(created))
    assert response.status_code == 200, response.json
    attended = response.json
    assert (attended["status"], attended["version"]) == ("attended", created["version"] + 1)
    assert attended["outcome_recorded_by"] and attended["outcome_recorded_at"]
    assert response.headers["ETag"] == f'"{attended["id"]}-{attended["version"]}"'

    refused = caller.patch(status_url(attended), json={"status": "no_show"},
                           headers=if_match(attended))
    assert refused.status_code == 409
    assert refused.json["allowed"] == []
    assert "attended" in refused.json["errors"]["status"][0]
    assert caller.get(f"{URL}/{created['id']}").json["version"] == attended["version"]
    entries = audit_entries(entity_type="appointment", action="update")
    assert [entry.summary for entry in entries] == ["outcome attended"]


def test_a_provider_of_another_territory_and_a_past_time_answer_one_422(api, case_manager,
                                                                        patient):
    """Issue #16: both named at once (the time was checked only for a provider of the
    patient's territory)."""
    elsewhere = make_provider(kind="nurse", territory_code="CORNOUAILLE")
    response = api(case_manager).post(URL, json=body(patient, elsewhere,
                                                     starts_at="2026-01-06T09:00"), headers=EN)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"provider_id", "starts_at"}


def test_a_no_show_keeps_its_reason(api, case_manager, patient, provider):
    caller = api(case_manager)
    created = happened(caller, patient, provider)
    response = caller.patch(status_url(created), json={"status": "cancelled_patient",
                                                       "no_show_reason": "forgot"},
                            headers=if_match(created))
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["no_show_reason"]
    for sent, field in (({"status": "scheduled"}, "status"), ({}, "status"),
                        ({"status": "no_show", "no_show_reason": "bored"}, "no_show_reason")):
        response = caller.patch(status_url(created), json=sent, headers=if_match(created))
        assert (response.status_code, list(response.json["errors"])) == (422, [field]), sent
    response = caller.patch(status_url(created), json={"status": "no_show",
                                                       "no_show_reason": "transport"},
                            headers=if_match(created))
    assert (response.json["status"], response.json["no_show_reason"]) == ("no_show",
                                                                          "transport")


def test_outcome_needs_the_current_etag(api, case_manager, other_case_manager, patient,
                                        provider):
    caller = api(case_manager)
    created = happened(caller, patient, provider)
    response = caller.patch(status_url(created), json={"status": "attended"})
    assert response.status_code == 428
    assert "If-Match" in response.json["errors"]
    stale = {**created, "version": created["version"] + 5}
    response = caller.patch(status_url(created), json={"status": "attended"},
                            headers=if_match(stale))
    assert response.status_code == 412
    assert response.headers["ETag"] == f'"{created["id"]}-{created["version"]}"'
    assert caller.get(f"{URL}/{created['id']}").json["status"] == "scheduled"
    assert api(other_case_manager).patch(status_url(created), json={"status": "attended"},
                                         headers=if_match(created)).status_code == 404


# -- OpenAPI -----------------------------------------------------------------------------------

def test_the_resource_is_described(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths[URL])
    assert {"409", "422", "404"} <= set(paths[URL]["post"]["responses"])
    status = paths[f"{URL}/{{appointment_id}}/status"]["patch"]
    assert {"404", "409", "412", "422", "428"} <= set(status["responses"])
    assert [p["name"] for p in status["parameters"] if p["in"] == "header"] == ["If-Match"]
    parameters = {p["name"] for p in paths[URL]["get"]["parameters"]}
    assert {"patient", "provider", "status", "from", "to", "page", "per_page"} <= parameters
    create = spec["components"]["schemas"]["AppointmentCreate"]
    assert create["properties"]["kind"]["enum"][0] == "consultation"


def test_an_action_of_another_patients_plan_is_refused(api, case_manager, patient, provider):
    other_plan = make_care_plan(make_patient())
    response = api(case_manager).post(URL, json=body(
        patient, provider, action_id=other_plan.goals[0].actions[0].id))
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["action_id"]
