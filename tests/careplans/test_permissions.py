"""Who reads and who edits a care plan: can_read_plan, can_edit_plan and shared_plan_scope."""

import pytest
from sqlalchemy import select

from coordinator.careplans.models import CarePlan
from coordinator.patients.models import Patient
from coordinator.patients.services import record_consent
from coordinator.permissions import can_edit_plan, can_read_plan, shared_plan_scope
from tests.factories import case_plan_actor, make_care_plan, make_patient, make_provider


@pytest.fixture
def gp():
    return make_provider(kind="gp")


@pytest.fixture
def nurse():
    return make_provider(kind="nurse")


@pytest.fixture
def patient(gp):
    return make_patient(gp_id=gp.id, consent_share=True)


@pytest.fixture
def gp_user(make_user, gp):
    return make_user(role="gp", provider_id=gp.id, territory_code=None)


@pytest.fixture
def nurse_user(make_user, nurse):
    return make_user(role="professional", provider_id=nurse.id, territory_code=None)


def with_nurse(nurse) -> list[dict]:
    return [{"description": "Surveiller le poids",
             "actions": [{"description": "Visite à domicile", "provider_id": nurse.id}]}]


def shared(session, user, plans) -> set[int]:
    """The ids, among `plans`, that shared_plan_scope selects for `user`."""
    query = (select(CarePlan.id).join(Patient, Patient.id == CarePlan.patient_id)
             .where(shared_plan_scope(user), CarePlan.id.in_([p.id for p in plans])))
    return set(session.scalars(query))


# -- The patient's GP ------------------------------------------------------------------------

def test_gp_reads_the_active_plan_of_a_consenting_patient(session, patient, gp_user):
    plan = make_care_plan(patient, status="active")
    assert can_read_plan(gp_user, plan)
    assert shared(session, gp_user, [plan]) == {plan.id}


def test_gp_no_longer_reads_once_the_patient_withdraws_consent(session, patient, gp_user):
    plan = make_care_plan(patient, status="active")
    record_consent(session, case_plan_actor(), patient, False, expressed_as="oral")
    assert not can_read_plan(gp_user, plan)
    assert shared(session, gp_user, [plan]) == set()


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_gp_does_not_read_a_plan_that_is_not_active(session, patient, gp_user, status):
    plan = make_care_plan(patient, status=status)
    assert not can_read_plan(gp_user, plan)
    assert shared(session, gp_user, [plan]) == set()


def test_another_gp_does_not_read_the_plan(session, make_user, patient):
    plan = make_care_plan(patient, status="active")
    other = make_user(role="gp", provider_id=make_provider(kind="gp").id, territory_code=None)
    assert not can_read_plan(other, plan)
    assert shared(session, other, [plan]) == set()


# -- Care-team professionals -----------------------------------------------------------------

def test_professional_on_the_care_team_reads_the_plan(session, patient, nurse, nurse_user):
    plan = make_care_plan(patient, status="active", goals=with_nurse(nurse))
    assert can_read_plan(nurse_user, plan)
    assert not can_edit_plan(nurse_user, plan)


def test_professional_not_on_the_care_team_does_not_read_the_plan(make_user, patient, nurse):
    plan = make_care_plan(patient, status="active", goals=with_nurse(nurse))
    outsider = make_user(role="professional", provider_id=make_provider(kind="nurse").id,
                         territory_code=None)
    assert not can_read_plan(outsider, plan)


# -- Staff -----------------------------------------------------------------------------------

def test_case_manager_of_the_territory_reads_and_edits(case_manager, patient):
    plan = make_care_plan(patient)
    assert can_read_plan(case_manager, plan)
    assert can_edit_plan(case_manager, plan)


def test_case_manager_of_another_territory_neither_reads_nor_edits(make_user, patient):
    plan = make_care_plan(patient, status="active")
    elsewhere = make_user(role="case_manager", territory_code="CORNOUAILLE")
    assert not can_read_plan(elsewhere, plan)
    assert not can_edit_plan(elsewhere, plan)


def test_admin_reads_but_does_not_edit(admin, patient):
    plan = make_care_plan(patient)
    assert can_read_plan(admin, plan)
    assert not can_edit_plan(admin, plan)


def test_council_never_reads_nor_edits(session, make_user, patient):
    plan = make_care_plan(patient, status="active")
    council = make_user(role="council", territory_code="DOUAISIS")
    assert not can_read_plan(council, plan)
    assert not can_edit_plan(council, plan)
    assert shared(session, council, [plan]) == set()


# -- The SQL scope follows the rule ---------------------------------------------------------

def test_shared_plan_scope_selects_exactly_the_plans_can_read_plan_allows(
        session, make_user, gp, nurse, gp_user, nurse_user):
    other_gp = make_provider(kind="gp")
    own = make_patient(gp_id=gp.id, consent_share=True)
    past = make_patient(gp_id=gp.id, consent_share=True)
    refusing = make_patient(gp_id=gp.id, consent_share=False)
    theirs = make_patient(gp_id=other_gp.id, consent_share=True)
    plans = {
        "own active, nurse on team": make_care_plan(own, status="active",
                                                    goals=with_nurse(nurse)),
        "own closed": make_care_plan(past, status="closed", goals=with_nurse(nurse)),
        "own draft": make_care_plan(past, goals=with_nurse(nurse)),
        "own, no consent": make_care_plan(refusing, status="active", goals=with_nurse(nurse)),
        "other GP's, our GP on team": make_care_plan(theirs, status="active",
                                                     team=[{"provider_id": gp.id}]),
        "other GP's, nurse not on team": make_care_plan(
            make_patient(gp_id=other_gp.id, consent_share=True), status="active"),
    }
    moved = make_patient(gp_id=gp.id, consent_share=True)
    plans["GP changed after the plan"] = make_care_plan(moved, status="active")
    moved.gp_id = other_gp.id  # the new GP is not on the team (yet)
    session.flush()
    other_gp_user = make_user(role="gp", provider_id=other_gp.id, territory_code=None)
    other_gp_as_professional = make_user(role="professional", provider_id=other_gp.id,
                                         territory_code=None)
    for user in (gp_user, nurse_user, other_gp_user, other_gp_as_professional):
        readable = {plan.id for plan in plans.values() if can_read_plan(user, plan)}
        assert shared(session, user, plans.values()) == readable, user.role
    # A GP reads the plans of the patients whose GP they are now: not as a team member of
    # another GP's patient, and no longer once the patient changed GP.
    assert shared(session, gp_user, plans.values()) == {plans["own active, nurse on team"].id}
    assert plans["GP changed after the plan"].id in shared(session, other_gp_user,
                                                           plans.values())
    assert shared(session, nurse_user, plans.values()) == {
        plans["own active, nurse on team"].id}
