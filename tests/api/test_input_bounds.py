"""Hostile input on the API never gets a 500: ids and pages past the database's integers, NUL
characters and lone surrogates, dates out of range, deep or big JSON bodies, bad If-Match
headers, writes without credentials. Each answer keeps the contract: `{"errors": {field:
[messages]}}` (what schemathesis checks in `scripts/fuzz.py`)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from coordinator.core import bounds
from coordinator.core.time import local_today
from coordinator.core.workdays import next_working_day
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.scheduling.models import Appointment
from tests.api.conftest import patient_body
from tests.factories import make_care_plan, make_patient, make_provider

HUGE = "99999999999999999999"
EN = {"Accept-Language": "en"}


def assert_errors(response, status: int, *fields: str) -> dict:
    """The answer has `status` and the API's error shape: lists of messages, for `fields`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    errors = response.json["errors"]
    assert all(isinstance(messages, list) and messages and
               all(isinstance(m, str) for m in messages) for messages in errors.values()), errors
    if fields:
        assert sorted(errors) == sorted(fields), errors
    return errors


def patient_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Patient))


# -- Ids and pages -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/v1/patients/{id}", "/api/v1/careplans/{id}", "/api/v1/careplans/{id}/revisions",
    "/api/v1/careplans/{id}/pdf", "/api/v1/appointments/{id}", "/api/v1/providers/{id}",
    "/api/v1/programs/{id}", "/api/v1/enrollments/{id}"])
@pytest.mark.parametrize("record_id", [HUGE, "310665469261390592", str(bounds.MAX_ID + 1), "0"])
def test_an_id_past_the_database_integers_is_no_record(api, admin, path, record_id):
    response = api(admin).get(path.format(id=record_id))
    if path == "/api/v1/programs/{id}" and record_id == "0":
        assert response.status_code == 404  # read as a program code: none is "0"
        return
    assert_errors(response, 404, "_request")


def test_ids_in_urls_are_documented_within_the_database_integers(client):
    spec = client.get("/api/v1/openapi.json").json
    parameter = next(p for p in spec["paths"]["/api/v1/patients/{patient_id}"]["parameters"]
                     if p["name"] == "patient_id")
    assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": bounds.MAX_ID}


@pytest.mark.parametrize("query", [f"page={HUGE}", "page=9223372036854775807", "page=0",
                                   f"page={bounds.MAX_PAGE + 1}"])
@pytest.mark.parametrize("path", ["/api/v1/programs", "/api/v1/providers", "/api/v1/patients",
                                  "/api/v1/careplans", "/api/v1/appointments",
                                  "/api/v1/enrollments"])
def test_a_page_out_of_range_is_422_naming_it(api, admin, path, query):
    assert_errors(api(admin).get(f"{path}?{query}"), 422, "page")


@pytest.mark.parametrize("query", ["per_page=0", f"per_page={HUGE}", "per_page=501"])
def test_per_page_out_of_range_is_422_naming_it(api, admin, query):
    assert_errors(api(admin).get(f"/api/v1/providers?{query}"), 422, "per_page")


def test_the_last_page_allowed_answers_an_empty_page(api, admin):
    body = api(admin).get(f"/api/v1/providers?page={bounds.MAX_PAGE}&per_page=500").json
    assert (body["items"], body["page"]) == ([], bounds.MAX_PAGE)


@pytest.mark.parametrize(("path", "name"), [
    ("/api/v1/careplans?patient=", "patient"), ("/api/v1/appointments?patient=", "patient"),
    ("/api/v1/appointments?provider=", "provider"), ("/api/v1/enrollments?patient=", "patient"),
    ("/api/v1/patients?case_manager=", "case_manager")])
def test_an_id_filter_past_the_integers_is_422_naming_it(api, admin, path, name):
    assert_errors(api(admin).get(path + "101329228144744995321079136256"), 422, name)


def test_an_id_in_a_body_past_the_integers_is_422_naming_it(api, case_manager, session):
    patient = make_patient()
    caller = api(case_manager)
    response = caller.post("/api/v1/appointments", json={
        "patient_id": patient.id, "provider_id": int(HUGE),
        "starts_at": next_working_day(local_today() + timedelta(days=3)).isoformat() + "T09:00"})
    assert_errors(response, 422, "provider_id")
    response = caller.post("/api/v1/careplans", json={"patient_id": 2**63})
    assert_errors(response, 422, "patient_id")
    response = caller.post("/api/v1/patients", json=patient_body(gp_id=-(2**40)))
    assert_errors(response, 422, "gp_id")
    assert patient_count(session) == 1


def test_numbers_in_a_plan_stay_within_the_integers(api, case_manager):
    plan = make_care_plan(make_patient(), user=case_manager)
    response = api(case_manager).patch(
        f"/api/v1/careplans/{plan.id}", headers={"If-Match": f'"{plan.id}-{plan.version}"'},
        json={"goals": [{"description": "Walk", "actions": [
            {"description": "Nurse", "interval_days": 2**40, "occurrences": 3}]}]})
    assert_errors(response, 422, "goals.0.actions.0.interval_days")


# -- Text: NUL characters and lone surrogates --------------------------------------------------

@pytest.mark.parametrize(("path", "name"), [
    ("/api/v1/providers?territory=%00", "territory"), ("/api/v1/providers?q=a%00b", "q"),
    ("/api/v1/patients?name=%00", "name"), ("/api/v1/patients?nir=1%00", "nir"),
    ("/api/v1/enrollments?program=HF%00", "program")])
def test_a_nul_in_a_query_is_422_naming_the_parameter(api, admin, path, name):
    errors = assert_errors(api(admin).get(path, headers=EN), 422, name)
    assert "NUL" in errors[name][0]


def test_a_nul_in_a_path_segment_is_no_record(api, admin):
    assert_errors(api(admin).get("/api/v1/programs/HF%00"), 404)


def test_a_nul_in_a_body_is_422_naming_the_field_and_writes_nothing(api, case_manager, session):
    response = api(case_manager).post("/api/v1/patients",
                                      json=patient_body(birth_name="Du\x00pont"), headers=EN)
    assert_errors(response, 422, "birth_name")
    assert patient_count(session) == 0


def test_a_nul_in_a_nested_row_is_named_by_its_row(api, case_manager):
    plan = make_care_plan(make_patient(), user=case_manager)
    response = api(case_manager).patch(
        f"/api/v1/careplans/{plan.id}", headers={"If-Match": f'"{plan.id}-{plan.version}"'},
        json={"goals": [{"description": "Walk"}, {"description": "Eat\x00"}]})
    assert_errors(response, 422, "goals.1.description")


@pytest.mark.parametrize("text", ["\\ud800", "a\\udfffb", "\\udbff"])
def test_a_lone_surrogate_in_a_body_is_422_naming_the_field(client, api, case_manager, session,
                                                             text):
    caller = api(case_manager)
    body = json.dumps(patient_body()).replace('"Dupont"', f'"{text}"')
    response = client.post("/api/v1/patients", data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {caller.secret}"})
    assert_errors(response, 422, "birth_name")
    assert patient_count(session) == 0


def test_a_surrogate_pair_is_a_character_like_any_other(client, api, case_manager, session):
    caller = api(case_manager)
    body = json.dumps(patient_body(used_name="\U0001f600"))
    response = client.post("/api/v1/patients", data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {caller.secret}"})
    assert response.status_code == 201, response.json
    assert response.json["used_name"] == "\U0001f600"


def test_a_nul_in_a_key_is_refused(client, api, case_manager):
    caller = api(case_manager)
    response = client.post("/api/v1/patients", data='{"a\\u0000": 1}',
                           content_type="application/json",
                           headers={"Authorization": f"Bearer {caller.secret}"})
    assert_errors(response, 422, "_request")


# -- JSON bodies: depth and size ---------------------------------------------------------------

def _post_raw(client, caller, body: bytes | str, path: str = "/api/v1/patients"):
    return client.post(path, data=body, content_type="application/json",
                       headers={"Authorization": f"Bearer {caller.secret}", **EN})


@pytest.mark.parametrize("depth", [bounds.MAX_JSON_DEPTH + 1, 1000, 50_000])
def test_json_nested_too_deep_is_400(client, api, case_manager, session, depth):
    body = "[" * depth + "]" * depth
    errors = assert_errors(_post_raw(client, api(case_manager), body), 400, "_request")
    assert "nested too deeply" in errors["_request"][0]
    body = '{"birth_name":' + '{"a":' * depth + "1" + "}" * depth + "}"
    assert_errors(_post_raw(client, api(case_manager), body), 400, "_request")


def test_json_within_the_depth_reaches_the_schema(client, api, case_manager):
    depth = bounds.MAX_JSON_DEPTH
    body = '{"birth_name":' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    response = _post_raw(client, api(case_manager), body)
    assert_errors(response, 422)  # the schema's own errors: not a string, fields missing


def test_a_body_over_the_json_limit_is_413(client, api, case_manager, session):
    body = json.dumps(patient_body(address="x" * bounds.MAX_JSON_BYTES))
    assert_errors(_post_raw(client, api(case_manager), body), 413, "_request")
    assert patient_count(session) == 0


def test_a_body_over_the_request_limit_is_413_in_the_json_shape(app, client, api, case_manager):
    body = b'{"a": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}'
    assert_errors(_post_raw(client, api(case_manager), body), 413, "_request")


def test_a_body_that_is_not_json_is_400(client, api, case_manager):
    assert_errors(_post_raw(client, api(case_manager), "{not json"), 400, "_request")


# -- If-Match ----------------------------------------------------------------------------------

@pytest.mark.parametrize("header", ['""', 'W/""', "garbage", '"', "W/", '"1-"', '"-1"',
                                    '"abc-def"', '"1-1" garbage', '"1-99999999999999999999"',
                                    '"1-١"', ",", '"{id}-1", junk'])  # noqa: RUF001 - a digit int() reads
def test_a_malformed_if_match_is_412_never_a_crash(api, admin, header):
    patient = make_patient()
    response = api(admin).patch(f"/api/v1/patients/{patient.id}", json={"phone": "0600000000"},
                                headers={"If-Match": header.format(id=patient.id)})
    assert_errors(response, 412, "If-Match")
    assert response.headers["ETag"] == f'"{patient.id}-{patient.version}"'


@pytest.mark.parametrize("route", ["patient", "provider", "plan", "appointment"])
@pytest.mark.parametrize("header", ['""', 'W/""', "\x7f"])
def test_every_conditional_update_refuses_a_bad_if_match(api, admin, case_manager, route,
                                                          header):
    patient = make_patient()
    if route == "patient":
        path, body, caller = f"/api/v1/patients/{patient.id}", {"phone": "06"}, admin
    elif route == "provider":
        path, body, caller = f"/api/v1/providers/{make_provider().id}", {"city": "Douai"}, admin
    elif route == "plan":
        plan = make_care_plan(patient, user=case_manager)
        path, body, caller = f"/api/v1/careplans/{plan.id}", {"priorities": "x"}, case_manager
    else:
        from tests.factories import make_appointment  # booked when it was to come

        created = make_appointment(patient, make_provider("nurse"),
                                   datetime.combine(local_today() - timedelta(days=1), time(9)))
        db.session.commit()
        path = f"/api/v1/appointments/{created.id}/status"
        body, caller = {"status": "attended"}, case_manager
    response = api(caller).patch(path, json=body, headers={"If-Match": header})
    assert_errors(response, 412, "If-Match")


def test_several_tags_match_when_one_names_the_current_version(api, admin):
    patient = make_patient()
    response = api(admin).patch(
        f"/api/v1/patients/{patient.id}", json={"phone": "0600000000"},
        headers={"If-Match": f'"{patient.id}-0", W/"{patient.id}-{patient.version}"'})
    assert response.status_code == 200


# -- Authentication before anything else -------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/v1/patients"), ("patch", "/api/v1/patients/1"),
    ("post", "/api/v1/providers"), ("patch", "/api/v1/providers/1"),
    ("post", "/api/v1/careplans"), ("patch", "/api/v1/careplans/1"),
    ("post", "/api/v1/appointments"), ("patch", "/api/v1/appointments/1/status"),
    ("post", "/api/v1/enrollments")])
@pytest.mark.parametrize("body", [{"birth_name": "Dupont"}, {"birth_name": "a\x00"}])
def test_an_unauthenticated_write_is_401_not_a_csrf_400(client, session, method, path, body):
    response = getattr(client, method)(path, json=body, headers={"If-Match": '"1-1"'})
    assert_errors(response, 401, "authorization")
    assert patient_count(session) == 0


def test_a_browser_session_still_needs_its_csrf_token(client, logged_in, case_manager, session):
    logged_in(case_manager)
    response = client.post("/api/v1/patients", json=patient_body())
    assert_errors(response, 400, "_request")
    assert patient_count(session) == 0


# -- 422: always lists of messages -------------------------------------------------------------

def test_every_422_carries_lists(api, case_manager):
    caller = api(case_manager)
    assert_errors(caller.get("/api/v1/appointments?from=&to=junk"), 422, "from", "to")
    patient = make_patient()
    response = caller.post("/api/v1/appointments", json={
        "patient_id": patient.id, "provider_id": make_provider("nurse").id,
        "starts_at": "2026-03-01T09:00", "ends_at": "2026-03-01T10:00", "duration_minutes": 5})
    assert_errors(response, 422, "ends_at")
    assert_errors(caller.post("/api/v1/patients", json=[1, 2]), 422, "_request")
    assert_errors(caller.post("/api/v1/enrollments", json={"patient_id": patient.id,
                                                           "effective_date": "2026-01-01"}),
                  422, "stratum_code")


def test_booleans_are_json_booleans(api, case_manager):
    response = api(case_manager).post("/api/v1/providers", json={
        "kind": "gp", "name": "Dr Who", "territory_code": "DOUAISIS", "is_active": 0})
    assert_errors(response, 422, "is_active")


# -- Dates -------------------------------------------------------------------------------------

@pytest.mark.parametrize("birth_date", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_a_birth_date_out_of_range_is_422(api, case_manager, session, birth_date):
    response = api(case_manager).post("/api/v1/patients", headers=EN,
                                      json=patient_body(birth_date=birth_date, nir=None))
    errors = assert_errors(response, 422, "birth_date")
    assert "between 1900-01-01 and 2100-12-31" in errors["birth_date"][0]
    assert patient_count(session) == 0


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "from=1899-12-31T23:00",
                                   "to=2101-01-01T00:00:00%2B14:00"])
def test_an_appointment_filter_out_of_range_is_422(api, admin, query):
    name = query.split("=")[0]
    assert_errors(api(admin).get(f"/api/v1/appointments?{query}"), 422, name)


def test_the_range_edges_are_accepted_as_filters(api, admin):
    response = api(admin).get("/api/v1/appointments?from=1900-01-01&to=2100-12-31")
    assert response.status_code == 200


def book(caller, patient, starts_at: str):
    return caller.post("/api/v1/appointments", headers=EN, json={
        "patient_id": patient.id, "provider_id": make_provider("nurse").id,
        "starts_at": starts_at})


@pytest.mark.parametrize("starts_at", ["0018-05-01T09:00", "0601-05-01T09:00",
                                       "9999-12-31T09:00", "1899-12-31T23:30:00+00:00"])
def test_an_appointment_out_of_range_is_422(api, case_manager, session, starts_at):
    response = book(api(case_manager), make_patient(), starts_at)
    assert_errors(response, 422, "starts_at")
    assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_no_appointment_before_the_patients_birth(api, case_manager):
    patient = make_patient(birth_date=date(1950, 6, 15))
    errors = assert_errors(book(api(case_manager), patient, "1950-06-14T09:00"), 422,
                           "starts_at")
    assert "born on 1950-06-15" in errors["starts_at"][0]
    errors = assert_errors(book(api(case_manager), patient, "1950-06-15T09:00"), 422,
                           "starts_at")
    assert "in the past" in errors["starts_at"][0]  # a new booking starts from now on


def test_bookings_at_most_two_years_ahead(api, case_manager):
    patient = make_patient()
    today = datetime.now(UTC).date()
    far = date(today.year + 2, today.month, min(today.day, 28)) + timedelta(days=3)
    errors = assert_errors(book(api(case_manager), patient, f"{far.isoformat()}T09:00"), 422,
                           "starts_at")
    assert "at most 2 years ahead" in errors["starts_at"][0]
    near = next_working_day(today + timedelta(days=700))
    assert book(api(case_manager), patient, f"{near.isoformat()}T09:00").status_code == 201


def test_history_is_not_booked(api, case_manager):
    """History of any age is the appointments import's (tests/imports); the API books what is
    to come."""
    patient = make_patient(birth_date=date(1920, 1, 1))
    assert_errors(book(api(case_manager), patient, "1921-03-01T09:00"), 422, "starts_at")


@pytest.mark.parametrize("field", ["plan_date", "review_date", "agreement_on"])
def test_plan_dates_out_of_range_are_422(api, case_manager, field):
    plan = make_care_plan(make_patient(), user=case_manager)
    response = api(case_manager).patch(
        f"/api/v1/careplans/{plan.id}", headers={"If-Match": f'"{plan.id}-{plan.version}"'},
        json={field: "0001-01-01"})
    assert_errors(response, 422, field)


def test_nested_plan_dates_out_of_range_are_named_by_row(api, case_manager):
    plan = make_care_plan(make_patient(), user=case_manager)
    response = api(case_manager).patch(
        f"/api/v1/careplans/{plan.id}", headers={"If-Match": f'"{plan.id}-{plan.version}"'},
        json={"goals": [{"description": "Walk", "target_date": "9999-01-01", "actions": [
            {"description": "Nurse", "due_date": "1000-01-01"}]}]})
    assert_errors(response, 422, "goals.0.target_date", "goals.0.actions.0.due_date")


def test_an_enrollment_date_out_of_range_is_422(api, case_manager):
    patient = make_patient()
    response = api(case_manager).post("/api/v1/enrollments", json={
        "patient_id": patient.id, "stratum_code": "HF-1", "effective_date": "1000-01-01"})
    assert_errors(response, 422, "effective_date")


# -- Addresses ---------------------------------------------------------------------------------

def test_an_address_too_long_is_414_in_the_api_shape(api, admin, client):
    query = "&".join(f"per_page={index}" for index in range(800))
    assert len(query) > bounds.MAX_URL_CHARS
    assert_errors(api(admin).get(f"/api/v1/careplans?{query}"), 414, "_request")
    assert_errors(client.get(f"/api/v1/careplans?{query}"), 414, "_request")  # anonymous too
    assert api(admin).get("/api/v1/careplans?" + "x" * 4000).status_code == 200
