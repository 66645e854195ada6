"""The bounds of `core/bounds.py` on the pages: ids in URLs, pages, NUL characters in query
strings and forms, dates out of range in forms and navigation — answered 400/404 with the
field's message, never a 500. (The API's side: tests/api/test_input_bounds.py; the import's:
tests/imports/test_input_bounds.py.)"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from coordinator.core import bounds
from coordinator.patients.models import Patient
from coordinator.scheduling import rules
from coordinator.scheduling.models import Appointment
from tests.factories import make_patient, make_provider, territory

HUGE = "99999999999999999999"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# -- The bounds themselves ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "refused"), [
    ("Dupont", False), ("", False), ("\U0001f600 é ’", False), ("a\x00b", True),
    ("\ud800", True), ("x\udfff", True), ("\x01\x1f", False)])
def test_text_problem(text, refused):
    assert bool(bounds.text_problem(text)) is refused


@pytest.mark.parametrize(("day", "refused"), [
    (date(1900, 1, 1), False), (date(2100, 12, 31), False), (date(1899, 12, 31), True),
    (date(2101, 1, 1), True), (date(1, 1, 1), True), (datetime(9999, 12, 31, 23), True)])
def test_date_problem(day, refused):
    assert bool(bounds.date_problem(day)) is refused


def test_int_problem():
    assert bounds.int_problem(bounds.INT_MAX) is None
    assert bounds.int_problem(bounds.INT_MIN) is None
    assert bounds.int_problem(bounds.INT_MAX + 1)
    assert bounds.int_problem(True) is None  # a boolean is not a number here


def test_json_depth_and_text_are_walked_without_recursion():
    deep: list = []
    for _level in range(100_000):
        deep = [deep]
    assert bounds.json_depth_exceeds(deep)
    assert not bounds.json_depth_exceeds({"goals": [{"actions": [{"a": 1}]}]})
    assert bounds.forbidden_text_in({"goals": [{"description": "ok"}, {"x": ["a", "\x00"]}]}) \
        == "goals.1.x.1"
    assert bounds.forbidden_text_in({"a": "b"}) is None


def test_the_booking_horizon_on_29_february():
    assert rules.horizon(datetime(2028, 2, 29, 12, tzinfo=UTC)) == date(2030, 2, 28)
    assert rules.horizon(datetime(2026, 12, 1, 12, tzinfo=UTC)) == date(2028, 12, 1)


# -- Ids and pages -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/patients/{id}", "/providers/{id}", "/careplans/{id}",
                                  "/calendar/provider/{id}", "/scheduling/patients/{id}/new"])
@pytest.mark.parametrize("record_id", [HUGE, str(bounds.MAX_ID + 1), "0"])
def test_an_id_past_the_database_integers_is_404(client, logged_in, admin, path, record_id):
    logged_in(admin)
    response = client.get(path.format(id=record_id))
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("query", [f"page={HUGE}", "page=-3", "page=abc", f"per_page={HUGE}"])
def test_a_page_out_of_range_on_a_list_page_is_still_a_page(client, logged_in, admin, query):
    logged_in(admin)
    assert client.get(f"/providers/?{query}").status_code == 200


@pytest.mark.parametrize("path", [f"/?program_id={HUGE}", f"/admin/audit/?patient_id={HUGE}",
                                  "/admin/audit/?date_from=0001-01-01&date_to=9999-12-31"])
def test_filters_out_of_range_never_fail(client, logged_in, admin, path):
    logged_in(admin)
    assert client.get(path).status_code in (200, 400)


# -- Text on pages -----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "name"), [("/providers/?q=a%00b", "q"),
                                            ("/patients/?name=%00", "name")])
def test_a_nul_in_a_query_string_is_400_naming_the_parameter(client, logged_in, admin, path,
                                                             name):
    logged_in(admin)
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert f"{name}: This text holds a character that cannot be stored" in body


def test_an_encoded_surrogate_in_a_query_string_is_replaced_not_stored(client, logged_in,
                                                                       admin):
    logged_in(admin)
    assert client.get("/providers/?q=%ED%A0%80").status_code == 200


def patient_form(client, **values) -> dict:
    data = {"csrf_token": client.csrf_token("/patients/new"), "birth_name": "Dupont",
            "first_names": "Jacques", "birth_date": "1948-03-14", "sex": "M", "nir": "",
            "identity_status": "provisional", "territory_id": str(territory("DOUAISIS").id),
            "gp_id": "", "case_manager_id": ""}
    return data | values


def test_a_nul_in_a_form_field_is_400_naming_the_field(client, logged_in, case_manager,
                                                       session):
    logged_in(case_manager)
    client.get("/patients/new", headers={"Accept-Language": "en"})
    response = client.post("/patients/new", data=patient_form(client, birth_name="Du\x00pont"),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "birth_name: This text holds a character" in response.get_data(as_text=True)
    assert count(session, Patient) == 0


def test_a_form_without_its_csrf_token_is_refused_before_its_text_is_read(client, logged_in,
                                                                          case_manager):
    logged_in(case_manager)
    response = client.post("/patients/new", data={"birth_name": "\x00"})
    assert response.status_code == 400
    assert "birth_name" not in response.get_data(as_text=True)


# -- Dates on pages ----------------------------------------------------------------------------

@pytest.mark.parametrize("birth_date", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_a_birth_date_out_of_range_is_shown_on_its_field(client, logged_in, case_manager,
                                                         session, birth_date):
    logged_in(case_manager)
    response = client.post("/patients/new", data=patient_form(client, birth_date=birth_date),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="birth_date-error"' in body
    assert "Give a date between 1900-01-01 and 2100-12-31." in body
    assert count(session, Patient) == 0


@pytest.mark.parametrize("starts_at", ["0001-01-01T09:00", "9999-12-31T09:00",
                                       "1899-12-31T09:00"])
def test_a_booking_out_of_range_is_shown_on_its_field(client, logged_in, case_manager, session,
                                                      starts_at):
    patient, nurse = make_patient(), make_provider("nurse")
    logged_in(case_manager)
    path = f"/scheduling/patients/{patient.id}/new"
    response = client.post(path, data={
        "csrf_token": client.csrf_token(path), "provider_id": nurse.id, "kind": "consultation",
        "starts_at": starts_at, "duration_minutes": 30}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="starts_at-error"' in body and "Give a date between" in body
    assert count(session, Appointment) == 0


def test_a_booking_before_birth_or_too_far_ahead_is_shown_on_its_field(client, logged_in,
                                                                       case_manager, session):
    patient = make_patient(birth_date=date(1950, 6, 15))
    nurse = make_provider("nurse")
    logged_in(case_manager)
    path = f"/scheduling/patients/{patient.id}/new"
    far = date.today().replace(year=date.today().year + 3, day=1)
    for starts_at, message in (("1950-06-14T09:00", "born on 1950-06-15"),
                               (f"{far.isoformat()}T09:00", "at most 2 years ahead")):
        response = client.post(path, data={
            "csrf_token": client.csrf_token(path), "provider_id": nurse.id,
            "kind": "consultation", "starts_at": starts_at, "duration_minutes": 30},
            headers={"Accept-Language": "en"})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert count(session, Appointment) == 0


@pytest.mark.parametrize("path", ["/scheduling/day?date=9999-12-31",
                                  "/scheduling/day?date=0001-01-01",
                                  "/calendar/provider/{id}?date=9999-12-31",
                                  "/calendar/provider/{id}?view=month&date=0001-01-01"])
def test_navigation_to_a_day_out_of_range_is_400(client, logged_in, case_manager, path):
    nurse = make_provider("nurse")
    logged_in(case_manager)
    response = client.get(path.format(id=nurse.id), headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Give a date between 1900-01-01 and 2100-12-31." in response.get_data(as_text=True)


def test_day_outcomes_with_huge_or_unicode_ids_are_refused(client, logged_in, case_manager):
    logged_in(case_manager)
    token = client.csrf_token("/scheduling/day")
    for key in (f"outcome-{HUGE}", "outcome-²"):
        response = client.post("/scheduling/day", data={"csrf_token": token, key: "attended"})
        assert response.status_code in (302, 404), key


def test_an_address_too_long_is_414_on_pages(client, logged_in, admin):
    logged_in(admin)
    response = client.get("/providers/?q=" + "a" * bounds.MAX_URL_CHARS)
    assert response.status_code == 414
    assert response.mimetype == "text/html"
