"""Who may start a care plan, tested through HTTP so that it holds wherever the rule lives:
the patient's page offers "New care plan" exactly to whom the plan pages let start one."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from coordinator.careplans.models import CarePlan
from coordinator.extensions import db
from tests import factories
from tests.htmlform import form_fields

NEW_PLAN = 'data-testid="new-plan"'
REVISE = 'data-testid="revise-from-patient"'


@pytest.fixture
def patient(case_manager):
    return factories.make_patient(case_manager_id=case_manager.id)


def patient_page(client, patient) -> str:
    response = client.get(f"/patients/{patient.id}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def plans_of(patient) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [(plan.plan_number, plan.status) for plan in db.session.scalars(
        select(CarePlan).where(CarePlan.patient_id == patient.id).order_by(CarePlan.id))]


def plan_form(client, patient) -> dict:
    """The new-plan form as the browser would post it."""
    response = client.get(f"/careplans/new/{patient.id}")
    assert response.status_code == 200, response.status_code
    data = form_fields(response.get_data(as_text=True), "plan-form")
    assert data.get("csrf_token"), "no plan form"
    return data | {"priorities": "Rester à domicile"}


def start(client, patient, data: dict | None = None):
    if data is None:
        data = {"csrf_token": client.csrf_token("/"), "priorities": "Rester à domicile",
                "plan_date": date.today().isoformat()}
    return client.post(f"/careplans/new/{patient.id}", data=data)


def test_the_case_manager_is_offered_a_new_plan_and_starts_it(client, logged_in, case_manager,
                                                             patient):
    logged_in(case_manager)
    page = patient_page(client, patient)
    assert NEW_PLAN in page and f'href="/careplans/new/{patient.id}"' in page
    response = start(client, patient, plan_form(client, patient))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert plans_of(patient) == [(1, "draft")]


def test_no_new_plan_while_a_draft_exists(client, logged_in, case_manager, patient):
    factories.make_care_plan(patient, user=case_manager)
    logged_in(case_manager)
    page = patient_page(client, patient)
    assert NEW_PLAN not in page and REVISE not in page
    data = plan_form(client, patient)
    assert start(client, patient, data).status_code == 400
    assert plans_of(patient) == [(1, "draft")]


def test_no_new_plan_for_a_deceased_patient(client, logged_in, case_manager, patient):
    logged_in(case_manager)
    data = plan_form(client, patient)
    patient.deceased_date = date.today()
    db.session.commit()
    assert NEW_PLAN not in patient_page(client, patient)
    assert start(client, patient, data).status_code == 400
    assert plans_of(patient) == []


def test_an_active_plan_is_revised_rather_than_restarted(client, logged_in, case_manager,
                                                         patient):
    active = factories.make_care_plan(patient, user=case_manager, status="active")
    logged_in(case_manager)
    page = patient_page(client, patient)
    assert NEW_PLAN not in page
    assert REVISE in page and f'action="/careplans/{active.id}/revise"' in page
    response = client.post(f"/careplans/{active.id}/revise",
                           data={"csrf_token": client.csrf_token("/")})
    assert response.status_code == 302
    assert plans_of(patient) == [(1, "active"), (2, "draft")]


def test_administrators_read_the_patient_but_start_no_plan(client, logged_in, admin,
                                                           case_manager, patient):
    active_elsewhere = factories.make_care_plan(factories.make_patient(), status="active")
    logged_in(admin)
    page = patient_page(client, patient)
    assert NEW_PLAN not in page and REVISE not in page
    assert client.get(f"/careplans/new/{patient.id}").status_code == 403
    assert start(client, patient).status_code == 403
    assert client.post(f"/careplans/{active_elsewhere.id}/revise",
                       data={"csrf_token": client.csrf_token("/")}).status_code == 403
    assert plans_of(patient) == []
    assert plans_of(active_elsewhere.patient) == [(1, "active")]


def test_another_territorys_case_manager_starts_no_plan(client, logged_in, make_user, patient):
    active = factories.make_care_plan(factories.make_patient(), status="active")
    logged_in(make_user(role="case_manager", territory_code="CORNOUAILLE"))
    assert client.get(f"/patients/{patient.id}").status_code == 404
    assert client.get(f"/careplans/new/{patient.id}").status_code == 404
    assert start(client, patient).status_code == 404
    assert client.post(f"/careplans/{active.id}/revise",
                       data={"csrf_token": client.csrf_token("/")}).status_code == 404
    assert plans_of(patient) == []
    assert plans_of(active.patient) == [(1, "active")]


@pytest.mark.parametrize("role", ["gp", "professional", "council"])
def test_other_roles_start_no_plan(client, logged_in, make_user, patient, role):
    provider = factories.make_provider("gp" if role == "gp" else "nurse")
    logged_in(make_user(role=role, provider_id=provider.id if role != "council" else None))
    assert client.get(f"/careplans/new/{patient.id}").status_code == 403
    assert start(client, patient).status_code == 403
    assert plans_of(patient) == []
