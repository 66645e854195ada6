"""Size limits of a care plan (coordinator/careplans/limits.py): a plan at every limit is saved
and printed, one over any limit is refused whole by the form, the API and the service alike,
with a message naming the field, and nothing is written."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import String, func, select

from coordinator.careplans import limits, services
from coordinator.careplans.models import (
    CarePlan,
    CarePlanGoal,
    CarePlanMember,
    CarePlanRevision,
)
from coordinator.core.errors import ValidationError
from coordinator.extensions import db
from tests import factories
from tests.careplans import sizes
from tests.htmlform import form_fields

URL = "/api/v1/careplans"


@pytest.fixture
def providers():
    """A GP and MAX_TEAM - 1 other providers of the territory."""
    gp = factories.make_provider("gp")
    others = [factories.make_provider("nurse") for _ in range(limits.MAX_TEAM - 1)]
    return gp, others


@pytest.fixture
def patient(case_manager, providers):
    return factories.make_patient(gp_id=providers[0].id, case_manager_id=case_manager.id)


@pytest.fixture
def maximal(case_manager, patient, providers):
    """A draft plan at every limit at once, saved through the service."""
    gp, others = providers
    plan = services.create_plan(db.session, factories.case_plan_actor(case_manager), patient,
                                sizes.maximal_content(gp.id, [p.id for p in others]))
    db.session.commit()
    return plan


def _revisions(plan) -> int:
    return db.session.scalar(select(func.count()).select_from(CarePlanRevision)
                             .where(CarePlanRevision.plan_id == plan.id))


def _caller(client, session, user):
    from coordinator.auth import services as auth_services
    from coordinator.core.context import Actor

    issued = auth_services.issue_token(session, user, Actor.system("test"))
    session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


# -- The numbers -------------------------------------------------------------------------------

def test_the_short_texts_are_the_sizes_of_their_columns():
    columns = {**{name: CarePlan.__table__.c[name] for name in limits.PLAN_TEXT},
               **{f"goal.{name}": CarePlanGoal.__table__.c[name] for name in limits.GOAL_TEXT},
               "member.role": CarePlanMember.__table__.c.role}
    wanted = {**limits.PLAN_TEXT, **{f"goal.{k}": v for k, v in limits.GOAL_TEXT.items()},
              "member.role": limits.MEMBER_TEXT["role"]}
    for name, column in columns.items():
        if isinstance(column.type, String) and column.type.length:
            assert wanted[name] == column.type.length, name


def test_a_plan_at_every_limit_fits_a_request_as_json_and_as_a_form(providers):
    """The largest plan accepted can be sent: under MAX_CONTENT_LENGTH as JSON and as the
    edit page's form (whose field names are long)."""
    from flask import current_app

    gp, others = providers
    content = sizes.as_json(sizes.maximal_content(gp.id, [p.id for p in others]))
    body = json.dumps(content, ensure_ascii=False).encode()
    fields = [(name, value) for name, value in content.items() if isinstance(value, str)]
    for domain, parts in content["assessment"].items():
        fields += [(f"assessment_{domain}-{part}", value) for part, value in parts.items()]
    for row, goal in enumerate(content["goals"]):
        fields += [(f"goals-{row}-{name}", str(value)) for name, value in goal.items()
                   if name != "actions"] + [(f"goals-{row}-id", "123456")]
        for number, action in enumerate(goal["actions"]):
            fields += [(f"goals-{row}-actions-{number}-{name}", str(value))
                       for name, value in action.items()] + \
                [(f"goals-{row}-actions-{number}-id", "1234567")]
    fields += [(f"team-{row}-{name}", str(value)) for row, member in enumerate(content["team"])
               for name, value in member.items()]
    form = urlencode(fields).encode()
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    # about 0.55 MB and 0.7 MB: room left for escapes (\u00e9 in JSON, %C3%A9 in a form)
    assert len(body) < limit / 2 and len(form) < limit / 2, (len(body), len(form))


# -- The service: every caller -----------------------------------------------------------------

def test_a_plan_at_every_limit_is_saved_and_one_more_goal_is_refused_whole(
        maximal, case_manager, providers):
    assert (len(maximal.goals), len(maximal.team)) == (limits.MAX_GOALS, limits.MAX_TEAM)
    assert max(len(goal.actions) for goal in maximal.goals) == limits.MAX_ACTIONS_PER_GOAL
    assert sum(len(goal.actions) for goal in maximal.goals) == limits.MAX_ACTIONS
    version = maximal.version
    goals = [{"id": goal.id, "description": goal.description} for goal in maximal.goals]
    with pytest.raises(ValidationError) as refused:
        services.save_plan(db.session, factories.case_plan_actor(case_manager), maximal,
                           {"goals": [*goals, {"description": "Une de plus"}]}, version)
    assert refused.value.messages() == {"goals": ["50 objectifs au maximum dans un plan."]}
    db.session.rollback()
    assert (maximal.version, len(maximal.goals), _revisions(maximal)) == (version, 50, 1)


def test_blank_rows_do_not_count(case_manager, patient):
    goals = [{"description": f"Objectif {n}"} for n in range(limits.MAX_GOALS)]
    goals += [{"description": "", "actions": [{"description": " "}]} for _ in range(5)]
    plan = services.create_plan(db.session, factories.case_plan_actor(case_manager), patient,
                                {"plan_date": date.today(), "goals": goals})
    assert len(plan.goals) == limits.MAX_GOALS


def test_each_text_over_its_limit_is_named_and_nothing_is_written(case_manager, patient):
    content = {"plan_date": date.today(), "priorities": sizes.text(4_001),
               "caregiver_name": sizes.text(201),
               "assessment": {"social": {"summary": sizes.text(10_001), "needs": "ok"}},
               "goals": [{"description": "Bouger", "actions": [
                   {"description": "Marche", "responsible": "patient"},
                   {"description": sizes.text(501), "responsible": "patient"}]}],
               "team": [{"provider_id": patient.gp_id, "role": sizes.text(201)}]}
    with pytest.raises(ValidationError) as refused:
        services.create_plan(db.session, factories.case_plan_actor(case_manager), patient,
                             content)
    errors = refused.value.messages()
    assert errors == {
        "priorities": ["4000 caractères au maximum : ce texte en compte 4001."],
        "caregiver_name": ["200 caractères au maximum : ce texte en compte 201."],
        "assessment-social-summary": ["10000 caractères au maximum : ce texte en compte 10001."],
        "goals-0-actions-1-description": ["500 caractères au maximum : ce texte en compte 501."],
        "team-0-role": ["200 caractères au maximum : ce texte en compte 201."],
    }
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CarePlan)
                             .where(CarePlan.patient_id == patient.id)) == 0


def test_a_text_at_its_limit_once_stripped_is_accepted(case_manager, patient):
    plan = services.create_plan(db.session, factories.case_plan_actor(case_manager), patient,
                                {"plan_date": date.today(),
                                 "priorities": "  " + sizes.text(4_000) + "\n"})
    assert len(plan.priorities) == 4_000


def test_the_care_team_counts_the_gp_and_the_providers_of_the_actions(
        case_manager, patient, providers):
    """40 providers given on actions, plus the GP (always on the team): 41 is one too many."""
    others = providers[1]
    extra = factories.make_provider("nurse")
    actor = factories.case_plan_actor(case_manager)
    with pytest.raises(ValidationError) as refused:
        services.create_plan(db.session, actor, patient, {"plan_date": date.today(),
                                                          "goals": _goals_with([*others, extra])})
    assert list(refused.value.messages()) == ["team"]
    db.session.rollback()
    plan = services.create_plan(db.session, actor, patient,
                                {"plan_date": date.today(), "goals": _goals_with(others)})
    assert len(plan.team) == limits.MAX_TEAM


def _goals_with(providers: list) -> list[dict]:
    """Goals of 10 actions, one action for each provider."""
    actions = [{"description": f"Séance {n}", "provider_id": provider.id}
               for n, provider in enumerate(providers)]
    return [{"description": f"Objectif {n}", "actions": actions[n:n + 10]}
            for n in range(0, len(actions), 10)]


def test_too_many_actions_are_named_on_their_goal(case_manager, patient):
    actions = [{"description": f"Action {n}", "responsible": "patient"}
               for n in range(limits.MAX_ACTIONS_PER_GOAL + 1)]
    with pytest.raises(ValidationError) as refused:
        services.create_plan(db.session, factories.case_plan_actor(case_manager), patient,
                             {"plan_date": date.today(), "goals": [
                                 {"description": "Un"}, {"description": "Deux",
                                                         "actions": actions}]})
    assert refused.value.messages() == {
        "goals-1-actions": ["20 actions au maximum par objectif."]}


def test_the_actions_of_all_goals_together_have_their_limit(case_manager, patient):
    goals = [{"description": f"Objectif {n}", "actions": [
        {"description": f"Action {m}", "responsible": "patient"}
        for m in range(limits.MAX_ACTIONS_PER_GOAL)]}
        for n in range(limits.MAX_ACTIONS // limits.MAX_ACTIONS_PER_GOAL)]
    goals.append({"description": "Une de plus", "actions": [{"description": "Encore",
                                                             "responsible": "patient"}]})
    with pytest.raises(ValidationError) as refused:
        services.create_plan(db.session, factories.case_plan_actor(case_manager), patient,
                             {"plan_date": date.today(), "goals": goals})
    assert refused.value.messages() == {
        "goals": ["200 actions au maximum dans un plan, tous objectifs confondus."]}


def test_a_close_reason_and_a_comment_have_their_limits(case_manager, patient):
    plan = factories.make_care_plan(patient, user=case_manager)
    actor = factories.case_plan_actor(case_manager)
    with pytest.raises(ValidationError) as refused:
        services.close_plan(db.session, actor, plan, sizes.text(2_001), plan.version)
    assert list(refused.value.messages()) == ["close_reason"]
    with pytest.raises(ValidationError):
        services.add_comment(db.session, actor, plan, sizes.text(4_001))


def test_a_plan_saved_before_the_limits_still_changes_what_is_sent(case_manager, patient):
    """Only what a save sends is measured: a plan over the limits (written before they
    existed) still gets its review date changed, activated or closed."""
    plan = factories.make_care_plan(patient, user=case_manager)
    plan.priorities = sizes.text(9_000)
    for n in range(limits.MAX_GOALS + 5):
        plan.goals.append(CarePlanGoal(position=n + 1, description=f"Ancien {n}"))
    db.session.commit()
    actor = factories.case_plan_actor(case_manager)
    # a date the plan does not hold already (today + 30 days is the factory's 1 January on
    # 2 December)
    services.save_plan(db.session, actor, plan,
                       {"review_date": plan.review_date + timedelta(days=30)}, plan.version)
    db.session.commit()
    assert _revisions(plan) == 2


# -- The API -----------------------------------------------------------------------------------

def test_the_api_refuses_20000_goals_with_a_422_naming_the_list(
        client, session, case_manager, patient):
    headers = _caller(client, session, case_manager)
    body = {"patient_id": patient.id, "plan_date": date.today().isoformat(),
            "goals": [{"description": f"Objectif {n}"} for n in range(20_000)]}
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 422
    assert response.json == {"errors": {"goals": ["50 objectifs au maximum dans un plan."]}}
    assert db.session.scalar(select(func.count()).select_from(CarePlan)
                             .where(CarePlan.patient_id == patient.id)) == 0


def test_the_api_refuses_a_list_too_long_before_reading_its_rows(client, session, case_manager,
                                                                 patient):
    """100,000 rows, none of them a goal (200 kB), are refused on their count alone: no row is
    read (each would be named)."""
    headers = _caller(client, session, case_manager)
    body = json.dumps({"patient_id": patient.id, "plan_date": date.today().isoformat(),
                       "goals": [1] * 100_000}, separators=(",", ":")).encode()
    started = time.monotonic()
    response = client.post(URL, headers=headers, data=body, content_type="application/json")
    assert time.monotonic() - started < 5  # 0.13 s; 42 s and a 25 MB answer, rows read
    assert response.status_code == 422
    assert response.json == {"errors": {"goals": ["50 objectifs au maximum dans un plan."]}}


def test_the_api_names_each_field_over_its_limit(client, session, case_manager, patient):
    plan = factories.make_care_plan(patient, user=case_manager)
    headers = _caller(client, session, case_manager) | {
        "If-Match": f'"{plan.id}-{plan.version}"', "Accept-Language": "fr"}
    too_many = [{"description": f"Action {n}"} for n in range(limits.MAX_ACTIONS_PER_GOAL + 1)]
    body = {"priorities": sizes.text(4_001),
            "assessment": {"health": {"summary": sizes.text(10_001)}},
            "goals": [{"description": "Un"}, {"description": "Deux", "actions": too_many},
                      {"description": "Trois", "actions": [{"description": sizes.text(501)}]}],
            "team": [{"provider_id": n} for n in range(limits.MAX_TEAM + 1)]}
    response = client.patch(f"{URL}/{plan.id}", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"] == {
        "priorities": ["4000 caractères au maximum."],
        "assessment.health.summary": ["10000 caractères au maximum."],
        "goals.1.actions": ["20 actions au maximum par objectif."],
        "goals.2.actions.0.description": ["500 caractères au maximum."],
        "team": ["40 membres au maximum dans l'équipe de soins, médecin traitant du patient "
                 "et intervenants des actions compris."],
    }
    db.session.expire_all()
    assert (plan.version, _revisions(plan)) == (1, 1)


def test_the_api_refuses_a_team_grown_too_large_by_the_actions(
        client, session, case_manager, patient, providers):
    others = providers[1]
    plan = factories.make_care_plan(patient, user=case_manager)
    extra = factories.make_provider("nurse")
    headers = _caller(client, session, case_manager) | {
        "If-Match": f'"{plan.id}-{plan.version}"'}
    response = client.patch(f"{URL}/{plan.id}", headers=headers,
                            json={"goals": _goals_with([*others, extra])})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["team"]


def test_the_openapi_description_declares_the_limits(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    content = schemas["CarePlanUpdate"]["properties"]
    assert content["goals"]["maxItems"] == limits.MAX_GOALS
    assert content["team"]["maxItems"] == limits.MAX_TEAM
    assert content["priorities"]["maxLength"] == limits.PLAN_TEXT["priorities"]
    assert content["close_reason"]["maxLength"] == limits.CLOSE_REASON
    goal = schemas["CarePlanGoalInput"]["properties"]
    assert goal["actions"]["maxItems"] == limits.MAX_ACTIONS_PER_GOAL
    assert goal["description"]["maxLength"] == limits.GOAL_TEXT["description"]
    assert schemas["CarePlanActionInput"]["properties"]["description"]["maxLength"] == \
        limits.ACTION_TEXT["description"]
    assert schemas["CarePlanDomainInput"]["properties"]["summary"]["maxLength"] == \
        limits.ASSESSMENT_TEXT["summary"]


# -- The form ----------------------------------------------------------------------------------

def _edit_fields(client, plan) -> dict:
    page = client.get(f"/careplans/{plan.id}/edit")
    assert page.status_code == 200
    return form_fields(page.get_data(as_text=True), "plan-form")


def test_the_form_refuses_a_text_too_long_on_its_field(client, logged_in, case_manager,
                                                       patient):
    plan = factories.make_care_plan(patient, user=case_manager)
    logged_in(case_manager)
    data = _edit_fields(client, plan) | {"priorities": sizes.text(4_001)}
    response = client.post(f"/careplans/{plan.id}/edit", data=data)
    assert response.status_code == 400
    assert 'id="priorities-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert (plan.version, plan.priorities) == (1, "Rester à domicile")


def test_the_form_refuses_one_goal_too_many_and_too_many_actions(
        client, logged_in, case_manager, patient):
    plan = factories.make_care_plan(patient, user=case_manager)
    logged_in(case_manager)
    data = _edit_fields(client, plan)
    for row in range(1, limits.MAX_GOALS + 1):  # goal 0 is the plan's own
        data |= {f"goals-{row}-description": f"Objectif {row}", f"goals-{row}-domain": "",
                 f"goals-{row}-status": "open"}
    response = client.post(f"/careplans/{plan.id}/edit", data=data)
    assert response.status_code == 400
    assert "50 objectifs au maximum dans un plan." in response.get_data(as_text=True)

    data = _edit_fields(client, plan)
    for number in range(limits.MAX_ACTIONS_PER_GOAL + 1):
        data |= {f"goals-0-actions-{number}-description": f"Action {number}",
                 f"goals-0-actions-{number}-responsible": "patient",
                 f"goals-0-actions-{number}-status": "planned"}
    response = client.post(f"/careplans/{plan.id}/edit", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-testid="goal-1-actions-error"' in html and "20 actions au maximum" in html
    db.session.expire_all()
    assert (plan.version, len(plan.goals), len(plan.goals[0].actions)) == (1, 1, 1)


def test_a_plan_at_every_limit_goes_through_the_edit_page_and_back(
        client, logged_in, case_manager, maximal):
    """No blank row beyond the limits; posting the page back unchanged saves nothing."""
    logged_in(case_manager)
    data = _edit_fields(client, maximal)
    assert f"goals-{limits.MAX_GOALS}-description" not in data
    assert not any(name.endswith("-description") and not value for name, value in data.items()
                   if "-actions-" in name)  # all the actions there may be: no blank row
    assert f"team-{limits.MAX_TEAM}-provider_id" not in data
    response = client.post(f"/careplans/{maximal.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert (maximal.version, _revisions(maximal)) == (1, 1)


def test_a_plan_over_the_limits_is_not_cut_short_by_the_edit_page(
        client, logged_in, case_manager, patient):
    plan = factories.make_care_plan(patient, user=case_manager)
    for n in range(limits.MAX_GOALS + 5):
        plan.goals.append(CarePlanGoal(position=n + 1, description=f"Ancien {n}"))
    db.session.commit()
    logged_in(case_manager)
    response = client.get(f"/careplans/{plan.id}/edit")
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200
    db.session.expire_all()
    assert len(plan.goals) == limits.MAX_GOALS + 6
