"""GET /api/v1/metrics and /api/v1/metrics/territories: the spec's JSON, who reads what, and
every bad input answered 422 naming the parameter (403 for another territory's detail)."""

from __future__ import annotations

import pytest

from tests.api.conftest import audit_entries

URL = "/api/v1/metrics"
PERIOD = "from=2026-01-01&to=2026-06-30"

SPEC_KEYS = {"period", "territory", "program", "population", "transitions", "no_show",
             "readmission_30d", "followup_7d", "care_plan_coverage", "plans_review_overdue",
             "indicators", "followed_vs_not"}


def test_the_worked_example_through_the_api(api, admin, worked_example):
    response = api(admin).get(f"{URL}?{PERIOD}&program=HF")
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) >= SPEC_KEYS
    assert body["period"] == {"from": "2026-01-01", "to": "2026-06-30"}
    assert (body["territory"], body["program"], body["stratum"]) == (None, "HF", None)
    assert body["population"] == {"count": 1, "by_stratum": {"HF-1": 0, "HF-2": 0, "HF-3": 1},
                                  "suppressed": False}
    assert body["transitions"] == {"up": 1, "down": 0, "suppressed": False}
    assert body["no_show"] == {"attended": 2, "no_show": 1, "rate": pytest.approx(1 / 3),
                               "outcome_missing": 0, "suppressed": False}
    assert body["readmission_30d"] == {"index_stays": 2, "readmitted": 1, "rate": 0.5,
                                       "suppressed": False}
    assert body["followup_7d"] == {"index_stays": 2, "followed_up": 0, "rate": 0.0,
                                   "suppressed": False}
    [flu] = body["indicators"]
    assert (flu["code"], flu["numerator"], flu["denominator"], flu["rate"], flu["target"]) == (
        "flu_vaccination_65", 1, 1, 1.0, 0.75)
    assert body["suppressed"] is False


def test_the_worked_example_for_douaisis_is_the_same(api, admin, worked_example):
    whole = api(admin).get(f"{URL}?{PERIOD}&program=HF").json
    douaisis = api(admin).get(f"{URL}?{PERIOD}&program=HF&territory=DOUAISIS").json
    assert douaisis["territory"] == "DOUAISIS"
    assert {k: v for k, v in douaisis.items() if k != "territory"} == \
        {k: v for k, v in whole.items() if k != "territory"}


def test_a_case_manager_reads_their_territory_exactly(api, case_manager,
                                                      worked_example):
    body = api(case_manager).get(f"{URL}?{PERIOD}&program=HF").json
    assert body["territory"] == "DOUAISIS"  # their territory by default
    assert body["no_show"]["attended"] == 2 and body["suppressed"] is False
    same = api(case_manager).get(f"{URL}?{PERIOD}&program=HF&territory=DOUAISIS")
    assert same.status_code == 200 and same.json == body


def test_a_council_reads_its_territory_with_small_cells_withheld(api, council,
                                                                 worked_example):
    response = api(council).get(f"{URL}?{PERIOD}&program=HF")
    assert response.status_code == 200
    body = response.json
    assert body["territory"] == "DOUAISIS" and body["suppressed"] is True
    assert body["population"] == {"count": None,
                                  "by_stratum": {"HF-1": 0, "HF-2": 0, "HF-3": None},
                                  "suppressed": True}
    assert body["no_show"] == {"attended": None, "no_show": None, "rate": None,
                               "outcome_missing": 0, "suppressed": True}
    assert body["readmission_30d"]["rate"] is None
    assert body["plans_review_overdue"] == 0


@pytest.mark.parametrize("who", ["council", "case_manager"])
def test_another_territory_s_detail_is_forbidden(request, api, who):
    user = request.getfixturevalue(who)
    response = api(user).get(f"{URL}?{PERIOD}&territory=CORNOUAILLE")
    assert response.status_code == 403
    assert "territory" in response.json["errors"]


def test_an_administrator_reads_any_territory_and_the_whole_registry(api, admin,
                                                                     worked_example):
    assert api(admin).get(f"{URL}?{PERIOD}&territory=CORNOUAILLE").status_code == 200
    body = api(admin).get(f"{URL}?{PERIOD}").json
    assert body["territory"] is None and body["population"]["count"] == 3  # PAT-004 died


@pytest.mark.parametrize("role", ["gp", "professional"])
def test_other_roles_read_no_figures(api, make_user, role):
    user = make_user(role=role)
    assert api(user).get(f"{URL}?{PERIOD}").status_code == 403
    assert api(user).get(f"{URL}/territories?{PERIOD}").status_code == 403


def test_without_credentials_401(client):
    assert client.get(f"{URL}?{PERIOD}").status_code == 401


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-07-01&to=2026-06-30", "to"),  # from after to
    ("from=2020-01-01&to=2025-01-01", "to"),  # over five years
    ("from=01/01/2026&to=2026-06-30", "from"),  # not ISO
    ("from=2026-01-01&to=2026-6-31", "to"),
    ("to=2026-06-30", "from"),
    ("from=2026-01-01", "to"),
    (f"{PERIOD}&territory=NOWHERE", "territory"),
    (f"{PERIOD}&program=XX", "program"),
    (f"{PERIOD}&stratum=HF-9", "stratum"),
    (f"{PERIOD}&program=DIAB&stratum=HF-3", "stratum"),
    ("from=1899-12-31&to=1900-01-02", "from"),
])
def test_bad_input_is_422_naming_the_parameter(api, admin, query, field):
    response = api(admin).get(f"{URL}?{query}")
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json


def test_five_years_exactly_are_accepted(api, admin):
    assert api(admin).get(f"{URL}?from=2021-01-01&to=2025-12-31").status_code == 200


def test_a_bad_input_of_a_council_is_422_before_403(api, council):
    response = api(council).get(f"{URL}?{PERIOD}&territory=NOWHERE")
    assert response.status_code == 422 and "territory" in response.json["errors"]


def test_a_stratum_implies_its_program(api, admin, worked_example):
    body = api(admin).get(f"{URL}?{PERIOD}&stratum=HF-3").json
    assert (body["program"], body["stratum"]) == ("HF", "HF-3")
    assert body["population"] == {"count": 1, "by_stratum": {"HF-3": 1}, "suppressed": False}


def test_reads_are_audited(api, council, worked_example):
    api(council).get(f"{URL}?{PERIOD}&program=HF")
    [entry] = audit_entries(entity_type="metrics")
    assert entry.action == "read" and entry.actor_user_id == council.id
    assert entry.details["program"] == "HF" and entry.details["territory"] == "DOUAISIS"


def test_every_reader_compares_the_territories(api, council, worked_example):
    response = api(council).get(f"{URL}/territories?{PERIOD}&program=HF")
    assert response.status_code == 200, response.json
    body = response.json
    assert [row["territory"] for row in body["territories"]] == [
        "AUBE-SEZ", "CORNOUAILLE", "DEUX-SEVRES", "DOUAISIS", "HAUTE-SAONE"]
    douaisis = body["territories"][3]
    detail = api(council).get(f"{URL}?{PERIOD}&program=HF").json
    for name in ("no_show", "readmission_30d", "followup_7d", "care_plan_coverage",
                 "indicators"):
        assert douaisis[name] == detail[name], name
    assert douaisis["population"] == {"count": None, "suppressed": True}
    assert audit_entries(entity_type="metrics_comparison")


def test_the_comparison_refuses_bad_input(api, admin):
    response = api(admin).get(f"{URL}/territories?from=2026-07-01&to=2026-06-30")
    assert response.status_code == 422 and "to" in response.json["errors"]


def test_the_openapi_description_names_the_parameters_and_nullable_counts(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/metrics"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "territory",
                                                           "program", "stratum"}
    assert {"200", "403", "422"} <= set(operation["responses"])
    schema = spec["components"]["schemas"]["NoShow"]
    assert schema["properties"]["rate"]["nullable"] is True
    assert schema["properties"]["rate"]["maximum"] == 1
    assert set(schema["required"]) == {"attended", "no_show", "rate", "outcome_missing",
                                       "suppressed"}


def test_the_imported_examples_are_the_spec_s():
    """The worked example imports tests/imports/data: the files of ../shared/spec/examples."""
    from pathlib import Path

    from tests.imports.conftest import DATA
    from tests.metrics.conftest import EXAMPLE_ORDER

    spec = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "examples"
    if not spec.is_dir():
        spec = Path("/work/shared/spec/examples")
    if not spec.is_dir():
        pytest.skip("the shared spec is not beside this checkout")
    for kind in EXAMPLE_ORDER:
        assert (DATA / f"{kind}.csv").read_bytes() == (spec / f"{kind}.csv").read_bytes(), kind
