"""/api/v1/careplans: create, read, update with If-Match, activate, close; who reads what;
revisions, PDF, audit."""

import base64
from datetime import timedelta

import pytest
from sqlalchemy import select

from coordinator.careplans.models import CarePlan
from coordinator.core.time import local_today
from tests.api.conftest import assert_page_shape, audit_entries
from tests.factories import make_care_plan, make_patient, make_provider

URL = "/api/v1/careplans"


def plan_url(plan, suffix: str = "") -> str:
    return f"{URL}/{plan.id}{suffix}"


def tag(plan) -> dict:
    return {"If-Match": f'"{plan.id}-{plan.version}"'}


def plan_body(patient, **overrides) -> dict:
    """A valid creation body (dates as ISO text)."""
    today = local_today()
    body = {
        "patient_id": patient.id, "plan_date": today.isoformat(),
        "review_date": (today + timedelta(days=180)).isoformat(),
        "priorities": "Rester à domicile",
        "assessment": {"health": {"summary": "Insuffisance cardiaque", "needs": "Suivi du poids"}},
        "goals": [{"description": "Stabiliser le poids", "domain": "health",
                   "target_date": (today + timedelta(days=90)).isoformat(),
                   "actions": [{"description": "Pesée quotidienne", "responsible": "patient"}]}],
    }
    body.update(overrides)
    return body


def plans_of(session, patient) -> list[CarePlan]:
    return list(session.scalars(select(CarePlan).where(CarePlan.patient_id == patient.id)))


@pytest.fixture
def gp_provider():
    return make_provider(kind="gp")


@pytest.fixture
def gp_user(make_user, gp_provider):
    """A GP signed in as the provider `gp_provider` of the directory."""
    return make_user(role="gp", provider_id=gp_provider.id, territory_code=None)


# -- Create ------------------------------------------------------------------------------------

def test_case_manager_starts_a_draft_answered_with_its_etag_and_location(api, case_manager):
    patient = make_patient()
    response = api(case_manager).post(URL, json=plan_body(patient))
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["patient_id"], body["status"], body["plan_number"]) == (patient.id, "draft", 1)
    assert body["plan_date"] == local_today().isoformat()
    assert body["coordinator_id"] == case_manager.id
    assert body["assessment"]["health"] == {"summary": "Insuffisance cardiaque",
                                            "needs": "Suivi du poids"}
    assert body["assessment"]["housing"] == {"summary": "", "needs": ""}
    [goal] = body["goals"]
    assert goal["actions"][0]["description"] == "Pesée quotidienne"
    assert body["comments"] == []
    assert response.headers["ETag"] == f'"{body["id"]}-{body["version"]}"'
    assert response.headers["Location"].endswith(f"{URL}/{body['id']}")
    assert "create" in [e.action for e in audit_entries(patient_id=patient.id)]


def test_target_date_before_the_plan_date_is_named_by_row(api, case_manager, session):
    patient = make_patient()
    body = plan_body(patient)
    body["goals"][0]["target_date"] = (local_today() - timedelta(days=1)).isoformat()
    response = api(case_manager).post(URL, json=body)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["goals.0.target_date"]
    assert plans_of(session, patient) == []


def test_inactive_provider_on_an_action_is_named_by_row(api, case_manager, session):
    patient = make_patient()
    retired = make_provider(kind="nurse", is_active=False)
    body = plan_body(patient)
    body["goals"][0]["actions"].append({"description": "Soins infirmiers",
                                        "responsible": "provider", "provider_id": retired.id})
    response = api(case_manager).post(URL, json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["goals.0.actions.1.provider_id"]
    assert "inactive" in response.json["errors"]["goals.0.actions.1.provider_id"][0]
    assert plans_of(session, patient) == []


def test_the_api_answers_every_problem_of_a_plan_at_once(api, case_manager, session):
    patient = make_patient()
    today = local_today()
    body = {"patient_id": patient.id, "plan_date": today.isoformat(),
            "review_date": (today - timedelta(days=1)).isoformat(),
            "goals": [{"description": "", "target_date": (today - timedelta(days=2)).isoformat(),
                       "actions": [{"description": "", "responsible": "provider",
                                    "due_date": (today + timedelta(days=9)).isoformat()},
                                   {"description": "Pesée", "responsible": "patient",
                                    "interval_days": 7}]}]}
    response = api(case_manager).post("/api/v1/careplans", json=body,
                                      headers={"Accept-Language": "en"})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) == {"review_date", "goals.0.description", "goals.0.target_date",
                           "goals.0.actions.0.description", "goals.0.actions.1.occurrences"}
    assert errors["goals.0.actions.1.occurrences"] == [
        "Give both the interval in days and the number of times of action 2 of goal 1."]
    assert plans_of(session, patient) == []


@pytest.mark.parametrize("goal,field", [
    ({"description": "x", "status": "done"}, "goals.0.status"),
    ({"description": "x", "target_date": "31/12/2030"}, "goals.0.target_date"),
    ({"description": "x", "actions": [{"description": "y", "colour": "blue"}]},
     "goals.0.actions.0.colour"),
])
def test_malformed_rows_are_named_with_dots(api, case_manager, goal, field):
    response = api(case_manager).post(URL, json=plan_body(make_patient(), goals=[goal]))
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]


def test_plans_are_started_for_visible_patients_by_case_managers_only(api, case_manager,
                                                                      other_case_manager, admin):
    patient = make_patient()
    assert api(other_case_manager).post(URL, json=plan_body(patient)).status_code == 404
    assert api(case_manager).post(URL, json=plan_body(patient, patient_id=999999)
                                  ).status_code == 404
    assert api(admin).post(URL, json=plan_body(patient)).status_code == 403


# -- Update, If-Match --------------------------------------------------------------------------

def test_patch_without_if_match_is_428_and_writes_nothing(api, case_manager):
    plan = make_care_plan(user=case_manager)
    caller = api(case_manager)
    response = caller.patch(plan_url(plan), json={"priorities": "Changer"})
    assert response.status_code == 428
    assert "If-Match" in response.json["errors"]
    assert caller.get(plan_url(plan)).json["priorities"] == "Rester à domicile"
    assert caller.get(plan_url(plan, "/revisions")).json["total"] == 1


def test_stale_if_match_is_412_and_writes_nothing(api, case_manager):
    plan = make_care_plan(user=case_manager)
    caller = api(case_manager)
    stale = {"If-Match": f'"{plan.id}-{plan.version - 1}"'}
    for body in ({"priorities": "Changer"}, {"status": "closed", "close_reason": "Fin"}):
        response = caller.patch(plan_url(plan), json=body, headers=stale)
        assert response.status_code == 412
        assert response.headers["ETag"] == f'"{plan.id}-{plan.version}"'
    reread = caller.get(plan_url(plan)).json
    assert (reread["priorities"], reread["status"]) == ("Rester à domicile", "draft")
    assert caller.get(plan_url(plan, "/revisions")).json["total"] == 1


def test_patch_with_the_current_etag_saves_a_revision(api, case_manager):
    plan = make_care_plan(user=case_manager)
    caller = api(case_manager)
    etag = caller.get(plan_url(plan)).headers["ETag"]
    response = caller.patch(plan_url(plan), json={"priorities": "Retrouver la marche"},
                            headers={"If-Match": etag, "Accept-Language": "en"})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["priorities"] == "Retrouver la marche"
    assert body["goals"][0]["description"] == "Stabiliser le poids"  # not sent: unchanged
    assert response.headers["ETag"] == f'"{plan.id}-{body["version"]}"' != etag
    revisions = caller.get(plan_url(plan, "/revisions"),
                           headers={"Accept-Language": "en"}).json
    assert_page_shape(revisions, total=2)
    latest = revisions["items"][0]
    assert (latest["number"], latest["event"]) == (body["version"], "edited")
    assert latest["changed"] == ["Priorities"]
    assert latest["author_label"] == case_manager.email
    # saved in English, read in the reader's language (French, the default)
    french = caller.get(plan_url(plan, "/revisions")).json["items"][0]
    assert french["changed"] == ["Priorités"]


def test_goals_sent_replace_the_list_and_keep_rows_by_id(api, case_manager):
    plan = make_care_plan(user=case_manager)
    caller = api(case_manager)
    goal = caller.get(plan_url(plan)).json["goals"][0]
    response = caller.patch(plan_url(plan), headers=tag(plan), json={"goals": [
        {"id": goal["id"], "description": "Stabiliser le poids", "actions": []},
        {"description": "Prévenir les chutes", "domain": "autonomy"}]})
    assert response.status_code == 200, response.json
    goals = response.json["goals"]
    assert goals[0]["id"] == goal["id"] and goals[0]["actions"] == []
    assert goals[1]["description"] == "Prévenir les chutes"


def test_patch_errors_of_actions_are_named_by_row_and_write_nothing(api, case_manager):
    plan = make_care_plan(user=case_manager)
    caller = api(case_manager)
    response = caller.patch(plan_url(plan), headers=tag(plan), json={"goals": [
        {"description": "Stabiliser le poids",
         "actions": [{"description": "Pesée", "responsible": "patient", "interval_days": 7}]}]})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["goals.0.actions.0.occurrences"]
    assert caller.get(plan_url(plan)).json["version"] == plan.version


def test_other_territory_neither_reads_nor_changes_a_plan(api, other_case_manager):
    plan = make_care_plan()
    caller = api(other_case_manager)
    assert caller.get(plan_url(plan)).status_code == 404
    assert caller.patch(plan_url(plan), json={"priorities": "x"},
                        headers=tag(plan)).status_code == 404


# -- Activate, close ---------------------------------------------------------------------------

def test_activation_needs_the_patients_agreement(api, case_manager):
    plan = make_care_plan(user=case_manager)
    caller = api(case_manager)
    response = caller.patch(plan_url(plan), json={"status": "active"}, headers=tag(plan))
    assert response.status_code == 422
    assert {"agreement_on", "agreement_method"} <= set(response.json["errors"])
    assert caller.get(plan_url(plan)).json["status"] == "draft"

    response = caller.patch(plan_url(plan), headers=tag(plan), json={
        "status": "active", "agreement_on": local_today().isoformat(),
        "agreement_method": "oral"})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["status"], body["activated_on"]) == ("active", local_today().isoformat())
    assert response.headers["ETag"] == f'"{plan.id}-{body["version"]}"'
    events = [r["event"] for r in caller.get(plan_url(plan, "/revisions")).json["items"]]
    assert events == ["activated", "edited", "created"]


def test_a_second_active_plan_for_the_patient_is_refused(api, case_manager):
    patient = make_patient()
    make_care_plan(patient, status="active")
    draft = make_care_plan(patient, agreement_on=local_today(), agreement_method="oral")
    response = api(case_manager).patch(plan_url(draft), json={"status": "active"},
                                       headers=tag(draft))
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["status"]


def test_closing_without_a_reason_is_422_on_close_reason_and_changes_nothing(api, case_manager):
    plan = make_care_plan(status="active")
    version = plan.version
    caller = api(case_manager)
    for body in ({"status": "closed"}, {"status": "closed", "close_reason": "   "},
                 {"status": "closed", "close_reason": None}):
        response = caller.patch(plan_url(plan), json=body, headers=tag(plan))
        assert response.status_code == 422, (body, response.json)
        assert list(response.json["errors"]) == ["close_reason"], body
    reread = caller.get(plan_url(plan))
    assert (reread.json["status"], reread.json["close_reason"]) == ("active", None)
    assert reread.headers["ETag"] == f'"{plan.id}-{version}"'  # nothing written
    assert [r["event"] for r in caller.get(plan_url(plan, "/revisions")).json["items"]] == [
        "activated", "created"]


def test_a_close_reason_without_closing_is_422_and_changes_nothing(api, case_manager):
    plan = make_care_plan(status="active")
    version = plan.version
    caller = api(case_manager)
    goals = caller.get(plan_url(plan)).json["goals"]  # as read: no change of content
    for goal in goals:
        for action in goal["actions"]:
            action.pop("provider_name", None)
    for body in ({"close_reason": "Entrée en EHPAD"},
                 {"status": "active", "close_reason": "Entrée en EHPAD"},
                 {"goals": goals, "close_reason": "Entrée en EHPAD"}):
        response = caller.patch(plan_url(plan), json=body, headers=tag(plan))
        assert response.status_code == 422, (body, response.json)
        assert list(response.json["errors"]) == ["close_reason"], body
    reread = caller.get(plan_url(plan)).json
    assert (reread["status"], reread["priorities"], reread["version"]) == (
        "active", "Rester à domicile", version)


def test_closing_with_a_reason_closes_the_plan(api, case_manager):
    plan = make_care_plan(status="active")
    version = plan.version
    caller = api(case_manager)
    response = caller.patch(plan_url(plan), json={"status": "closed",
                                                  "close_reason": "  Entrée en EHPAD "},
                            headers=tag(plan))
    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["close_reason"]) == ("closed",
                                                                        "Entrée en EHPAD")
    assert response.headers["ETag"] == f'"{plan.id}-{response.json["version"]}"'
    assert response.json["version"] == version + 1
    events = [r["event"] for r in caller.get(plan_url(plan, "/revisions")).json["items"]]
    assert events[0] == "closed"
    response = caller.patch(plan_url(plan), json={"status": "draft"}, headers=tag(plan))
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["status"]
    assert caller.get(plan_url(plan)).json["status"] == "closed"


# -- Lists -------------------------------------------------------------------------------------

def test_list_filters_by_patient_and_status_newest_first(api, case_manager, session):
    patient = make_patient()
    first = make_care_plan(patient, status="closed")
    second = make_care_plan(patient, status="active")
    other = make_care_plan()
    make_care_plan(make_patient(territory_code="CORNOUAILLE"))
    caller = api(case_manager)

    body = caller.get(URL).json
    assert_page_shape(body, total=3)
    assert [p["id"] for p in body["items"]] == [other.id, second.id, first.id]
    assert [p["id"] for p in caller.get(URL, query_string={"patient": patient.id}
                                        ).json["items"]] == [second.id, first.id]
    assert [p["id"] for p in caller.get(URL, query_string={"patient": patient.id,
                                                           "status": "closed"}
                                        ).json["items"]] == [first.id]
    response = caller.get(URL, query_string={"status": "lost"})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["status"]

    entry = audit_entries(entity_type="care_plan_search")[-1]
    assert (entry.action, entry.patient_id) == ("read", patient.id)
    assert entry.details == {"criteria": {"patient": patient.id, "status": "closed"},
                             "plans": [first.id]}  # and each plan returned is a read of it
    assert entry.summary == "1 result(s)"


# -- The care team -----------------------------------------------------------------------------

def test_gp_reads_only_the_active_plans_shared_with_them(api, gp_user, gp_provider):
    shared = make_care_plan(make_patient(gp_id=gp_provider.id, consent_share=True),
                            status="active")
    others = make_care_plan(make_patient(gp_id=make_provider(kind="gp").id, consent_share=True),
                            status="active")
    refused = make_care_plan(make_patient(gp_id=gp_provider.id), status="active")
    draft = make_care_plan(make_patient(gp_id=gp_provider.id, consent_share=True))
    caller = api(gp_user)

    response = caller.get(plan_url(shared))
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{shared.id}-{shared.version}"'
    assert gp_provider.id in [m["provider_id"] for m in response.json["team"]]
    for hidden in (others, refused, draft):
        assert caller.get(plan_url(hidden)).status_code == 404
    assert [p["id"] for p in caller.get(URL).json["items"]] == [shared.id]
    assert caller.post(URL, json=plan_body(shared.patient)).status_code == 403
    assert caller.patch(plan_url(shared), json={"priorities": "x"},
                        headers=tag(shared)).status_code == 403


def test_history_stays_with_the_case_managers(api, gp_user, gp_provider, case_manager):
    plan = make_care_plan(make_patient(gp_id=gp_provider.id, consent_share=True),
                          status="active")
    assert api(gp_user).get(plan_url(plan, "/revisions")).status_code == 404
    assert api(case_manager).get(plan_url(plan, "/revisions")).json["total"] == 2


def test_council_reads_no_plan(api, council):
    plan = make_care_plan(make_patient(consent_share=True), status="active")
    caller = api(council)
    assert caller.get(URL).status_code == 403
    assert caller.get(plan_url(plan)).status_code == 403
    assert caller.get(plan_url(plan, "/pdf")).status_code == 403
    assert audit_entries(patient_id=plan.patient_id, action="read") == []


def test_unknown_plan_is_404(api, admin):
    assert api(admin).get(f"{URL}/999999").status_code == 404


# -- Audit, PDF --------------------------------------------------------------------------------

def test_reading_a_plan_is_audited(api, admin):
    plan = make_care_plan()
    assert api(admin).get(plan_url(plan)).status_code == 200
    [entry] = audit_entries(patient_id=plan.patient_id, action="read")
    assert (entry.entity_type, entry.entity_id, entry.actor_label) == (
        "care_plan", str(plan.id), admin.email)


def test_printing_answers_the_pdf_and_is_audited(api, gp_user, gp_provider):
    plan = make_care_plan(make_patient(gp_id=gp_provider.id, consent_share=True),
                          status="active")
    caller = api(gp_user)
    response = caller.get(plan_url(plan, "/pdf"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert [e.action for e in audit_entries(patient_id=plan.patient_id)][-1] == "print"

    as_json = caller.get(plan_url(plan, "/pdf"), headers={"Accept": "application/json"}).json
    assert as_json["content_type"] == "application/pdf"
    assert base64.b64decode(as_json["data"]).startswith(b"%PDF")
    assert caller.get(plan_url(make_care_plan(), "/pdf")).status_code == 404


def test_a_plan_too_large_for_a_request_is_printed_in_the_background(api, app, gp_user,
                                                                     gp_provider, make_user,
                                                                     monkeypatch):
    from io import BytesIO

    from pypdf import PdfReader

    from coordinator.work import worker

    patient = make_patient(gp_id=gp_provider.id, consent_share=True)
    plan = make_care_plan(patient, status="active")
    monkeypatch.setitem(app.config, "PRINT_INLINE_MAX_BYTES", 1000)
    caller = api(gp_user)
    queued = caller.get(plan_url(plan, "/pdf"))
    assert queued.status_code == 202
    location = queued.headers["Location"]
    assert queued.json["status"] == "running" and queued.json["pdf_url"] is None
    assert location == f"/api/v1/careplans/prints/{queued.json['id']}"
    assert caller.get(location + "/pdf").status_code == 409  # not rendered yet
    # Another reader of the plan does not see the caller's print.
    admin = make_user(role="admin")
    assert api(admin).get(location).status_code == 404

    assert worker.drain(app)
    state = caller.get(location).json
    assert state["status"] == "succeeded" and state["done"] == state["total"] == 1
    pdf = caller.get(state["pdf_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.data)).pages)
    assert patient.birth_name.upper() in text.upper()
    assert "export" in [e.action for e in audit_entries(patient_id=patient.id)]
    # Rendered once, it is cached: the next print of the same content answers at once.
    assert caller.get(plan_url(plan, "/pdf")).status_code == 200
