"""On an active plan, an update changes only the follow-up (goal and action statuses, the reason
of a goal's status); a change of content goes through a revision that needs the patient's
agreement again. The form, the API and the page say and obey the same rule (#16, bug 6)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from coordinator.auth import services as auth_services
from coordinator.careplans import services
from coordinator.careplans.models import CarePlan, CarePlanRevision
from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError
from coordinator.extensions import db
from tests import factories
from tests.api.conftest import ApiCaller
from tests.htmlform import form_fields

EN = {"Accept-Language": "en"}
API = "/api/v1/careplans"


def _tag(plan) -> dict:
    return {"If-Match": f'"{plan.id}-{plan.version}"', "Accept-Language": "en"}


def _revisions(plan) -> int:
    return db.session.scalar(select(func.count()).select_from(CarePlanRevision)
                             .where(CarePlanRevision.plan_id == plan.id))


@pytest.fixture
def api(client, session):
    def as_user(user) -> ApiCaller:
        issued = auth_services.issue_token(session, user, Actor.system("test"))
        session.commit()
        return ApiCaller(client, issued.secret)

    return as_user


@pytest.fixture
def active(case_manager):
    patient = factories.make_patient(case_manager_id=case_manager.id, consent_share=True)
    return factories.make_care_plan(patient, user=case_manager, status="active")


def _followup(plan, goal_status="achieved", action_status="done") -> dict:
    """The plan's goals as the service takes them, with new statuses (nothing else changed)."""
    goal = plan.goals[0]
    return {"goals": [{
        "id": goal.id, "domain": goal.domain, "problem": goal.problem,
        "description": goal.description, "measure": goal.measure,
        "target_date": goal.target_date, "status": goal_status, "status_reason": None,
        "actions": [{"id": a.id, "description": a.description, "responsible": a.responsible,
                     "provider_id": a.provider_id, "interval_days": a.interval_days,
                     "occurrences": a.occurrences, "due_date": a.due_date,
                     "status": action_status} for a in goal.actions]}]}


# -- The service: one rule ---------------------------------------------------------------------

def test_a_content_change_of_an_active_plan_is_refused_naming_the_fields(
        app, case_manager, active):
    actor = factories.case_plan_actor(case_manager)
    version, count = active.version, _revisions(active)
    data = _followup(active)
    data["goals"][0]["description"] = "Perdre du poids"
    data["priorities"] = "Autre priorité"
    with app.test_request_context(headers=EN):
        with pytest.raises(ValidationError) as refused:
            services.save_plan(db.session, actor, active, data, active.version)
        with force_locale("en"):
            messages = refused.value.messages()
    assert set(messages) == {"priorities", "goals-0-description"}
    assert "Revise as a new version" in messages["priorities"][0]
    db.session.rollback()
    plan = db.session.get(CarePlan, active.id)
    assert (plan.version, plan.priorities, plan.goals[0].description, plan.goals[0].status) == (
        version, "Rester à domicile", "Stabiliser le poids", "open")
    assert _revisions(plan) == count


def test_the_follow_up_of_an_active_plan_is_saved_in_place(app, case_manager, active):
    actor = factories.case_plan_actor(case_manager)
    version = active.version
    with app.test_request_context(headers=EN):
        revision = services.save_plan(db.session, actor, active, _followup(active),
                                      active.version)
    db.session.commit()
    assert revision is not None and revision.event == "edited"
    plan = db.session.get(CarePlan, active.id)
    assert plan.status == "active" and plan.version == version + 1
    assert (plan.goals[0].status, plan.goals[0].actions[0].status) == ("achieved", "done")


def test_a_goal_or_action_added_or_removed_is_a_content_change(app, case_manager, active):
    actor = factories.case_plan_actor(case_manager)
    added = _followup(active, "open", "planned")
    added["goals"].append({"description": "Prévenir les chutes", "actions": []})
    removed = _followup(active, "open", "planned")
    removed["goals"][0]["actions"] = []
    for data, key in ((added, "goals-1-description"), (removed, "goals-0-actions")):
        with app.test_request_context(headers=EN), pytest.raises(ValidationError) as refused:
            services.save_plan(db.session, actor, active, data, active.version)
        assert key in refused.value.messages()
        db.session.rollback()


def test_a_draft_stays_fully_editable(app, case_manager):
    plan = factories.make_care_plan(user=case_manager)
    data = _followup(plan) | {"priorities": "Autre priorité"}
    data["goals"][0]["description"] = "Perdre du poids"
    with app.test_request_context(headers=EN):
        services.save_plan(db.session, factories.case_plan_actor(case_manager), plan, data,
                           plan.version)
    db.session.commit()
    assert (plan.priorities, plan.goals[0].description) == ("Autre priorité", "Perdre du poids")


# -- The API obeys it -----------------------------------------------------------------------

def test_the_api_refuses_a_content_change_of_an_active_plan_with_422(api, case_manager, active):
    caller = api(case_manager)
    response = caller.patch(f"{API}/{active.id}", json={"priorities": "Autre"},
                            headers=_tag(active))
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["priorities"]
    assert "new version" in response.json["errors"]["priorities"][0]
    assert caller.get(f"{API}/{active.id}").json["priorities"] == "Rester à domicile"


def test_the_api_saves_the_follow_up_of_an_active_plan(api, case_manager, active):
    caller = api(case_manager)
    body = caller.get(f"{API}/{active.id}").json
    goals = body["goals"]
    goals[0]["status"] = "achieved"
    goals[0]["actions"][0]["status"] = "done"
    for goal in goals:
        for action in goal["actions"]:
            action.pop("provider_name", None)
    response = caller.patch(f"{API}/{active.id}", json={"goals": goals}, headers=_tag(active))
    assert response.status_code == 200, response.json
    assert response.json["goals"][0]["status"] == "achieved"
    assert response.json["goals"][0]["actions"][0]["status"] == "done"


# -- The form and the page -------------------------------------------------------------------

def test_the_edit_form_of_an_active_plan_holds_only_the_follow_up(
        client, logged_in, case_manager, active):
    logged_in(case_manager)
    html = client.get(f"/careplans/{active.id}/edit", headers=EN).get_data(as_text=True)
    fields = form_fields(html, "plan-form")
    assert "goals-0-status" in fields and "goals-0-actions-0-status" in fields
    assert "goals-0-status_reason" in fields
    assert not {"priorities", "plan_date", "goals-0-description", "assessment_health-summary",
                "goals-0-actions-0-description", "team-0-provider_id"} & set(fields)
    assert 'data-testid="followup-only"' in html
    assert "Stabiliser le poids" in html  # the goal, shown to read

    fields |= {"goals-0-status": "achieved", "goals-0-actions-0-status": "done"}
    response = client.post(f"/careplans/{active.id}/edit", data=fields, headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    plan = db.session.get(CarePlan, active.id)
    assert (plan.status, plan.goals[0].status, plan.goals[0].actions[0].status) == (
        "active", "achieved", "done")
    assert plan.priorities == "Rester à domicile"


def test_a_content_field_posted_to_the_edit_form_of_an_active_plan_changes_nothing(
        client, logged_in, case_manager, active):
    logged_in(case_manager)
    fields = form_fields(client.get(f"/careplans/{active.id}/edit").get_data(as_text=True),
                         "plan-form")
    fields |= {"priorities": "Forcée", "goals-0-description": "Forcée"}
    client.post(f"/careplans/{active.id}/edit", data=fields)
    db.session.expire_all()
    plan = db.session.get(CarePlan, active.id)
    assert (plan.priorities, plan.goals[0].description) == ("Rester à domicile",
                                                            "Stabiliser le poids")


def test_the_page_says_which_button_needs_the_patients_agreement_again(
        client, logged_in, case_manager, active):
    logged_in(case_manager)
    html = client.get(f"/careplans/{active.id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="edit-plan"' in html and 'data-testid="revise-plan"' in html
    assert "Update the follow-up" in html
    assert "needs the patient’s agreement again" in html
    french = client.get(f"/careplans/{active.id}", headers={"Accept-Language": "fr"})
    assert "Mettre à jour le suivi" in french.get_data(as_text=True)
    assert "demande à nouveau l’accord du patient" in french.get_data(as_text=True)
    draft = factories.make_care_plan(user=case_manager)
    html = client.get(f"/careplans/{draft.id}", headers=EN).get_data(as_text=True)
    assert "Update the follow-up" not in html
