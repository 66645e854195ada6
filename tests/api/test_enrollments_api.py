"""/api/v1/enrollments: the strata timelines, read and extended by the patient's audience."""

from datetime import date, timedelta

import pytest

from coordinator.core.context import Actor
from coordinator.patients import assignments
from coordinator.strata.models import StratumAssignment
from tests.api.conftest import assert_page_shape, audit_entries
from tests.factories import make_patient, stratum

URL = "/api/v1/enrollments"
SYSTEM = Actor.system("test")


@pytest.fixture
def timeline(session):
    """A DOUAISIS patient: HF-1 from 2024-01-01, HF-2 from 2024-03-01; DIAB-1 since 2024-02-01."""
    patient = make_patient()
    assignments.assign_stratum(session, SYSTEM, patient, stratum("HF-1"), date(2024, 1, 1))
    assignments.assign_stratum(session, SYSTEM, patient, stratum("HF-2"), date(2024, 3, 1),
                               "worse")
    assignments.assign_stratum(session, SYSTEM, patient, stratum("DIAB-1"), date(2024, 2, 1))
    session.commit()
    return patient


def test_list_filters_and_shape(api, case_manager, timeline):
    caller = api(case_manager)
    body = caller.get(URL, query_string={"patient": timeline.id}).json
    assert_page_shape(body, total=3)
    hf = caller.get(URL, query_string={"patient": timeline.id, "program": "HF"}).json["items"]
    assert [(r["stratum_code"], r["effective_date"], r["end_date"]) for r in hf] == [
        ("HF-1", "2024-01-01", "2024-02-29"), ("HF-2", "2024-03-01", None)]
    assert hf[1]["reason"] == "worse" and hf[1]["author"] == "test"
    assert hf[1]["program_code"] == "HF" and hf[1]["patient_id"] == timeline.id
    assert hf[1]["exit"] is False
    current = caller.get(URL, query_string={"patient": timeline.id, "current": "true"}).json
    assert current["total"] == 2
    closed = caller.get(URL, query_string={"patient": timeline.id, "current": "false"}).json
    assert [r["stratum_code"] for r in closed["items"]] == ["HF-1"]
    assert caller.get(URL, query_string={"stratum": "HF-2"}).json["total"] == 1
    page = caller.get(URL, query_string={"per_page": 2, "page": 2}).json
    assert_page_shape(page, total=3, page=2, per_page=2)
    assert len(page["items"]) == 1


def test_list_is_audited(api, admin, timeline):
    api(admin).get(URL, query_string={"program": "HF"})
    entry = audit_entries(entity_type="stratum_assignment_search")[-1]
    assert entry.action == "read"
    assert entry.summary == "2 result(s)"


def test_unknown_codes_in_filters_are_422(api, admin):
    for query, field in [({"program": "NOPE"}, "program"), ({"stratum": "NOPE"}, "stratum"),
                         ({"current": "perhaps"}, "current"), ({"per_page": 600}, "per_page")]:
        response = api(admin).get(URL, query_string=query)
        assert response.status_code == 422
        assert list(response.json["errors"]) == [field]


def test_read_one_row_is_audited(api, case_manager, timeline, session):
    row = session.query(StratumAssignment).filter_by(patient_id=timeline.id).first()
    response = api(case_manager).get(f"{URL}/{row.id}")
    assert response.status_code == 200
    assert response.json["id"] == row.id
    entry = audit_entries(entity_type="stratum_assignment", action="read")[-1]
    assert (entry.entity_id, entry.patient_id) == (str(row.id), timeline.id)


def test_unknown_row_is_404(api, admin):
    assert api(admin).get(f"{URL}/999999").status_code == 404


def test_permissions(api, gp, council, other_case_manager, timeline, session):
    row = session.query(StratumAssignment).filter_by(patient_id=timeline.id).first()
    for user in (gp, council):
        caller = api(user)
        assert caller.get(URL).status_code == 403
        assert caller.get(f"{URL}/{row.id}").status_code == 404
        assert caller.post(URL, json={"patient_id": timeline.id, "stratum_code": "HF-3",
                                      "effective_date": "2024-06-01"}).status_code == 403
    caller = api(other_case_manager)
    assert caller.get(URL, query_string={"patient": timeline.id}).json["total"] == 0
    assert caller.get(f"{URL}/{row.id}").status_code == 404
    response = caller.post(URL, json={"patient_id": timeline.id, "stratum_code": "HF-3",
                                      "effective_date": "2024-06-01"})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["patient_id"]


def test_assign_a_stratum(api, case_manager, timeline):
    response = api(case_manager).post(URL, json={
        "patient_id": timeline.id, "stratum_code": "HF-3", "effective_date": "2024-06-01",
        "reason": "two admissions"})
    assert response.status_code == 201, response.json
    assert (response.json["stratum_code"], response.json["end_date"]) == ("HF-3", None)
    assert response.headers["Location"].endswith(f"{URL}/{response.json['id']}")
    rows = api(case_manager).get(URL, query_string={"patient": timeline.id, "program": "HF"}
                                 ).json["items"]
    assert rows[1]["end_date"] == "2024-05-31"
    entry = audit_entries(entity_type="stratum_assignment", action="update")[-1]
    assert entry.patient_id == timeline.id


def test_exit_a_program(api, admin, timeline):
    response = api(admin).post(URL, json={
        "patient_id": timeline.id, "program_code": "HF", "exit": True,
        "effective_date": "2024-07-01", "reason": "moved away"})
    assert response.status_code == 201, response.json
    assert response.json["stratum_code"] is None
    assert response.json["exit"] is True
    assert response.json["program_code"] == "HF"


@pytest.mark.parametrize("payload,field,fragment", [
    ({"stratum_code": "HF-3", "program_code": "DIAB"}, "stratum_code", "not a stratum"),
    ({"stratum_code": "HF-3", "effective_date": "2024-02-15"}, "effective_date", "overlaps"),
    ({"stratum_code": "HF-2", "effective_date": "2024-06-01"}, "stratum_code", "already"),
    ({"stratum_code": "NOPE"}, "stratum_code", "Unknown"),
    ({"stratum_code": None}, "stratum_code", "null"),
    ({}, "stratum_code", "stratum"),
    ({"exit": True}, "program_code", "program"),
    ({"exit": True, "program_code": "HF", "stratum_code": "HF-1"}, "stratum_code", "exit"),
    ({"exit": True, "program_code": "HF"}, "reason", "reason"),
    ({"exit": True, "program_code": "HF", "reason": "x", "effective_date": "2024-02-01"},
     "effective_date", "after"),
    ({"exit": True, "program_code": "NOPE", "reason": "x"}, "program_code", "Unknown"),
    ({"stratum_code": "HF-3", "effective_date": "1900-01-01"}, "effective_date", "birth"),
    ({"stratum_code": "HF-3", "effective_date": "2024-13-01"}, "effective_date", "YYYY-MM-DD"),
    ({"stratum_code": "HF-3", "patient_id": 999999}, "patient_id", "Unknown patient"),
])
def test_assignment_errors_name_the_api_field(api, admin, timeline, payload, field, fragment):
    body = {"patient_id": timeline.id, "effective_date": "2024-06-01", **payload}
    body = {key: value for key, value in body.items() if key != "reason" or value}
    response = api(admin).post(URL, json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert fragment.lower() in " ".join(response.json["errors"][field]).lower()


def test_effective_date_after_death_is_refused(api, admin, session):
    patient = make_patient(deceased_date=date(2024, 1, 10))
    response = api(admin).post(URL, json={
        "patient_id": patient.id, "stratum_code": "HF-1",
        "effective_date": (date(2024, 1, 10) + timedelta(days=5)).isoformat()})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["effective_date"]
    assert session.query(StratumAssignment).filter_by(patient_id=patient.id).count() == 0
