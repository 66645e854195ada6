"""/api/v1/programs: programs with strata, follow-up templates and indicators, read only."""

from tests.api.conftest import assert_page_shape
from tests.factories import program

URL = "/api/v1/programs"


def test_list_programs_with_their_strata(api, gp):
    body = api(gp).get(URL).json
    count = len(body["items"])
    assert_page_shape(body, total=count)
    codes = [row["code"] for row in body["items"]]
    assert codes == sorted(codes) and "HF" in codes
    heart = body["items"][codes.index("HF")]
    assert [s["code"] for s in heart["strata"]] == ["HF-1", "HF-2", "HF-3"]
    assert heart["strata"][2]["requires_care_plan"] is True
    assert heart["strata"][2]["followup_items"], "level 3 has a follow-up template"
    assert {"code", "label", "label_en", "interval_days", "occurrences", "provider_kind",
            "position"} >= set(
        heart["strata"][2]["followup_items"][0]) - {"code"}
    assert heart["indicators"] and isinstance(heart["indicators"][0]["target_percent"], float)


def test_pages_of_programs(api, council):
    page = api(council).get(URL, query_string={"per_page": 1, "page": 2}).json
    assert page["per_page"] == 1 and page["page"] == 2 and len(page["items"]) == 1
    assert api(council).get(URL, query_string={"per_page": 501}).status_code == 422


def test_read_one_by_code_or_id(api, case_manager):
    caller = api(case_manager)
    by_code = caller.get(f"{URL}/HF")
    assert by_code.status_code == 200
    assert by_code.json["name_en"] == "Heart failure"
    by_id = caller.get(f"{URL}/{program('HF').id}")
    assert by_id.json == by_code.json


def test_unknown_program_is_404(api, admin):
    assert api(admin).get(f"{URL}/NOPE").status_code == 404
    assert api(admin).get(f"{URL}/999999").status_code == 404


def test_programs_need_a_signed_in_caller(client):
    assert client.get(URL).status_code == 401


def test_the_api_gives_the_goals_with_their_domain_and_both_languages(api, case_manager):
    body = api(case_manager).get("/api/v1/programs/HF").json
    hf3 = body["strata"][2]
    assert hf3["goals"][2] == {"position": 2, "domain": "psychological",
                               "description": "Projet de fin de vie",
                               "description_en": "End-of-life wishes"}
    assert hf3["followup_items"][0]["label_en"] == "Nurse home visit"
    assert hf3["boundary_criteria_en"].startswith("NYHA III-IV or")
    assert body["indicators"][0]["label_en"] == "Flu vaccination of people aged 65 and over"
    assert hf3["clinical_goals"].startswith("Contrôler les symptômes; ")
