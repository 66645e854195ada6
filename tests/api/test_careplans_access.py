"""The access rules of /api/v1/careplans, each through HTTP: who starts a plan for which
patient, who lists, reads, changes, prints a plan, who reads its history. A refusal changes
nothing and, for a record the caller may not see, answers 404 (its existence does not leak)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from coordinator.careplans.models import CarePlan
from coordinator.core.time import local_today
from coordinator.extensions import db
from tests.factories import make_care_plan, make_patient, make_provider

URL = "/api/v1/careplans"


def body_for(patient) -> dict:
    return {"patient_id": patient.id, "plan_date": local_today().isoformat(),
            "review_date": (local_today() + timedelta(days=180)).isoformat(),
            "priorities": "Rester à domicile"}


def tag(plan) -> dict:
    return {"If-Match": f'"{plan.id}-{plan.version}"'}


def stored(plan) -> tuple:
    db.session.expire_all()
    plan = db.session.get(CarePlan, plan.id)
    return plan.version, plan.status, plan.priorities


def plan_count() -> int:
    return len(db.session.scalars(select(CarePlan.id)).all())


@pytest.fixture
def world(make_user, case_manager):
    """Plans of both territories, a GP and a nurse with accounts, on the shared one's team."""
    gp, nurse = make_provider(kind="gp"), make_provider(kind="nurse")
    shared = make_care_plan(make_patient(gp_id=gp.id, consent_share=True), status="active",
                            team=[{"provider_id": nurse.id}])
    own = make_care_plan(make_patient())
    elsewhere = make_care_plan(make_patient(territory_code="CORNOUAILLE"), status="active")
    return {
        "shared": shared, "own": own, "elsewhere": elsewhere,
        "gp": make_user(role="gp", provider_id=gp.id),
        "nurse": make_user(role="professional", provider_id=nurse.id),
        "other_gp": make_user(role="gp", provider_id=make_provider(kind="gp").id),
        "case_manager": case_manager,
        "other_case_manager": make_user(role="case_manager", territory_code="CORNOUAILLE"),
        "admin": make_user(role="admin"),
        "council": make_user(role="council"),
    }


def listed(caller, **query) -> set[int]:
    response = caller.get(URL, query_string=query)
    assert response.status_code == 200, response.json
    return {item["id"] for item in response.json["items"]}


# -- Starting a plan ---------------------------------------------------------------------------

def test_a_case_manager_starts_plans_for_the_patients_of_their_territory_only(api, world):
    caller = api(world["case_manager"])
    before = plan_count()
    for patient in (make_patient(territory_code="CORNOUAILLE"), world["elsewhere"].patient):
        assert caller.post(URL, json=body_for(patient)).status_code == 404
    merged = make_patient()
    merged.merged_into_id = world["own"].patient_id
    db.session.commit()
    assert caller.post(URL, json=body_for(merged)).status_code == 404
    assert plan_count() == before
    response = caller.post(URL, json=body_for(make_patient()))
    assert response.status_code == 201, response.json
    assert plan_count() == before + 1


@pytest.mark.parametrize("who", ["admin", "gp", "nurse", "council"])
def test_only_case_managers_start_plans(api, world, who):
    before = plan_count()
    response = api(world[who]).post(URL, json=body_for(make_patient()))
    assert response.status_code == 403
    assert plan_count() == before


# -- Listing and reading -----------------------------------------------------------------------

def test_each_caller_lists_the_plans_they_may_read(api, world):
    shared, own, elsewhere = world["shared"], world["own"], world["elsewhere"]
    assert listed(api(world["case_manager"])) == {shared.id, own.id}
    assert listed(api(world["other_case_manager"])) == {elsewhere.id}
    assert listed(api(world["admin"])) == {shared.id, own.id, elsewhere.id}
    assert listed(api(world["gp"])) == {shared.id}
    assert listed(api(world["nurse"])) == {shared.id}
    assert listed(api(world["other_gp"])) == set()
    assert api(world["council"]).get(URL).status_code == 403


def test_the_patient_filter_does_not_widen_the_list(api, world):
    hidden = world["elsewhere"].patient_id
    assert listed(api(world["case_manager"]), patient=hidden) == set()
    assert listed(api(world["gp"]), patient=world["own"].patient_id) == set()
    assert listed(api(world["admin"]), patient=hidden) == {world["elsewhere"].id}


@pytest.mark.parametrize("who,readable", [
    ("case_manager", {"shared", "own"}),
    ("other_case_manager", {"elsewhere"}),
    ("admin", {"shared", "own", "elsewhere"}),
    ("gp", {"shared"}),
    ("nurse", {"shared"}),
    ("other_gp", set()),
])
def test_a_plan_is_read_by_whom_may_read_it_else_404(api, world, who, readable):
    caller = api(world[who])
    for name in readable:
        assert caller.get(f"{URL}/{world[name].id}").status_code == 200, name
    for name in {"shared", "own", "elsewhere"} - readable:
        assert caller.get(f"{URL}/{world[name].id}").status_code == 404, name
        assert caller.get(f"{URL}/{world[name].id}/pdf").status_code == 404, name


@pytest.mark.parametrize("who", ["gp", "nurse"])
def test_the_care_team_reads_the_plan_but_not_its_history(api, world, who):
    plan = world["shared"]
    caller = api(world[who])
    assert caller.get(f"{URL}/{plan.id}").status_code == 200
    assert caller.get(f"{URL}/{plan.id}/revisions").status_code == 404


def test_staff_read_the_history_of_the_plans_they_may_read(api, world):
    plan, elsewhere = world["shared"], world["elsewhere"]
    for who in ("case_manager", "admin"):
        response = api(world[who]).get(f"{URL}/{plan.id}/revisions")
        assert response.status_code == 200 and response.json["total"] == 2, who
    assert api(world["case_manager"]).get(f"{URL}/{elsewhere.id}/revisions").status_code == 404


# -- Changing a plan ---------------------------------------------------------------------------

@pytest.mark.parametrize("who,status", [("other_case_manager", 404), ("admin", 403),
                                        ("gp", 403), ("nurse", 403), ("council", 403)])
def test_only_the_territorys_case_managers_change_a_plan(api, world, who, status):
    plan = world["shared"]
    before = stored(plan)
    caller = api(world[who])
    for body in ({"priorities": "Changée"}, {"status": "closed", "close_reason": "Fin"}):
        assert caller.patch(f"{URL}/{plan.id}", json=body, headers=tag(plan)
                            ).status_code == status, body
    assert stored(plan) == before
    manager = api(world["case_manager"])  # the follow-up of the active plan (its content:
    goals = manager.get(f"{URL}/{plan.id}").json["goals"]  # a new version)
    goals[0]["status"] = "achieved"
    for goal in goals:
        for action in goal["actions"]:
            action.pop("provider_name", None)
    response = manager.patch(f"{URL}/{plan.id}", headers=tag(plan), json={"goals": goals})
    assert response.status_code == 200, response.json
    assert stored(plan)[0] == before[0] + 1
