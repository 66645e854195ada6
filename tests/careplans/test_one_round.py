"""Every problem of a plan at once (issue #16): the form's own errors and the service's rules
together, each message on its field naming the goal and action it is about; nothing saved."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from coordinator.careplans.models import CarePlan
from coordinator.core.time import local_today
from coordinator.extensions import db
from tests import factories
from tests.htmlform import form_fields


def _error_of(page: str, field: str) -> str:
    """The message shown under one field of the form (its `…-error` element)."""
    match = re.search(rf'id="{re.escape(field)}-error"[^>]*>([^<]*)<', page)
    assert match, f"no error shown on {field}"
    return match.group(1)


def _plans() -> int:
    return db.session.scalar(select(func.count()).select_from(CarePlan))


def test_a_new_plan_shows_the_forms_and_the_services_errors_at_once(client, logged_in,
                                                                     case_manager):
    patient = factories.make_patient(case_manager_id=case_manager.id)
    nurse = factories.make_provider("nurse")
    logged_in(case_manager)
    data = form_fields(client.get(f"/careplans/new/{patient.id}").get_data(as_text=True),
                       "plan-form")
    data |= {
        "goals-0-description": "Rester à domicile",
        # action 1: the patient is responsible, yet a provider is chosen
        "goals-0-actions-0-description": "Pesée", "goals-0-actions-0-responsible": "patient",
        "goals-0-actions-0-provider_id": str(nurse.id),
        # action 2: a provider, nothing said of what is to be done
        "goals-0-actions-1-description": "", "goals-0-actions-1-provider_id": str(nurse.id),
        # goal 2: a target date that is no date (the form's own check)
        "goals-1-description": "Marcher", "goals-1-target_date": "2030-02-31",
        # a review date before the plan date (a rule of the service)
        "review_date": (local_today() - timedelta(days=3)).isoformat(),
    }
    response = client.post(f"/careplans/new/{patient.id}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "l’action 1 de l’objectif 1" in _error_of(page, "goals-0-actions-0-provider_id")
    assert _error_of(page, "goals-0-actions-1-description") == \
        "Indiquez ce qui doit être fait dans l’action 2 de l’objectif 1."
    assert _error_of(page, "goals-1-target_date")  # the form's message, shown as before
    assert "date de réévaluation" in _error_of(page, "review_date").lower()
    assert _plans() == 0


def test_a_draft_edited_shows_every_problem_and_keeps_its_content(client, logged_in,
                                                                   case_manager):
    plan = factories.make_care_plan(user=case_manager, goals=[
        {"description": "Stabiliser le poids", "actions": [
            {"description": "Pesée", "responsible": "patient"},
            {"description": "Marche", "responsible": "patient"}]},
        {"description": "Sortir", "actions": []}])
    logged_in(case_manager)
    data = form_fields(client.get(f"/careplans/{plan.id}/edit").get_data(as_text=True),
                       "plan-form")
    data |= {"plan_date": "", "goals-0-actions-0-description": "",
             "goals-0-actions-0-due_date": (local_today() + timedelta(days=9)).isoformat(),
             "goals-0-actions-1-interval_days": "7", "goals-1-description": "",
             "goals-1-target_date": local_today().isoformat()}
    response = client.post(f"/careplans/{plan.id}/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert _error_of(page, "plan_date")  # the form's own "required"
    assert "action 1 de l’objectif 1" in _error_of(page, "goals-0-actions-0-description")
    assert "action 2 de l’objectif 1" in _error_of(page, "goals-0-actions-1-occurrences")
    assert _error_of(page, "goals-1-description") == "Décrivez l’objectif 2."
    db.session.expire_all()
    saved = db.session.get(CarePlan, plan.id)
    assert saved.version == plan.version
    assert [a.description for a in saved.goals[0].actions] == ["Pesée", "Marche"]


def test_activation_names_every_missing_provider_and_the_passed_review_date_at_once(
        client, logged_in, case_manager):
    plan = factories.make_care_plan(user=case_manager, goals=[
        {"description": "Stabiliser le poids", "actions": [
            {"description": "Pesée", "responsible": "patient"},
            {"description": "Visite infirmière", "responsible": "provider"},
            {"description": "Kinésithérapie", "responsible": "provider"}]}],
        agreement_on=local_today(), agreement_method="oral")
    plan.review_date = local_today() - timedelta(days=1)  # passed since it was written
    db.session.commit()
    logged_in(case_manager)
    token = client.csrf_token(f"/careplans/{plan.id}")
    client.post(f"/careplans/{plan.id}/activate",
                data={"csrf_token": token, "version": plan.version})
    page = client.get(f"/careplans/{plan.id}").get_data(as_text=True)
    assert "Choisissez le professionnel de l’action 2 de l’objectif 1" in page
    assert "Choisissez le professionnel de l’action 3 de l’objectif 1" in page
    assert "La date de réévaluation est dépassée" in page
    assert db.session.get(CarePlan, plan.id).status == "draft"
