"""As a new user would: a case manager creates a plan from the stratum's suggestions, activates
it, edits it twice and sees the diff; the demo GP reads it, comments and prints it; the case
manager prints it too."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from coordinator import demo
from coordinator.auth import services as auth_services
from coordinator.core.context import Actor
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.patients import assignments
from coordinator.patients import services as patient_services
from coordinator.strata.models import Stratum, Territory


@pytest.fixture
def new_patient(live_app):
    """A consenting patient of the demo caseload, whose GP is the demo GP, in HF-3, no plan."""
    with live_app.app_context():
        manager = auth_services.find_user(db.session, "case.manager@demo.test")
        gp_user = auth_services.find_user(db.session, "gp@demo.test")
        territory = db.session.query(Territory).filter_by(code="DOUAISIS").one()
        actor = Actor.system("browser-test")
        patient = patient_services.create_patient(db.session, actor, {
            "birth_name": "Planchon", "first_names": "Odette", "sex": "F",
            "birth_date": local_today().replace(year=1938), "territory_id": territory.id,
            "gp_id": gp_user.provider_id, "case_manager_id": manager.id,
            "consent_share": True}, confirm_duplicate=True)
        assignments.assign_stratum(db.session, actor, patient,
                                   db.session.query(Stratum).filter_by(code="HF-3").one(),
                                   local_today() - timedelta(days=5), "inclusion")
        db.session.commit()
        patient_id = patient.id
        db.session.remove()
    return patient_id


def _sign_in(page, live_server, email):
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_test_id("home-title")).to_be_visible()


def _sign_out(page):
    page.get_by_role("button", name="Se déconnecter").click()


def _save(page):
    page.get_by_test_id("save-plan").click()
    expect(page.get_by_test_id("plan-title")).to_be_visible()


def test_plan_from_suggestions_to_the_gp_and_the_printer(live_server, page, new_patient):
    _sign_in(page, live_server, "case.manager@demo.test")
    page.goto(f"{live_server}/patients/{new_patient}")
    page.get_by_test_id("new-plan").click()

    form = page.get_by_test_id("plan-form")
    expect(form.locator("textarea[name='goals-0-description']")).to_have_value(
        "Contrôler les symptômes")
    # Every suggested follow-up gets a provider: the first one the directory offers.
    for select in form.locator("select[name$='-provider_id'][name*='-actions-']").all():
        row = select.get_attribute("name").removesuffix("provider_id")
        if form.locator(f"[name='{row}description']").input_value() and \
                not select.input_value():
            select.select_option(index=1)
    form.locator("[name='priorities']").fill("Rester chez moi avec mon chien")
    _save(page)
    expect(page.get_by_test_id("plan-status").first).to_have_text(re.compile("Brouillon|Draft"))

    page.get_by_test_id("edit-plan").click()
    form.locator("[name='agreement_on']").fill(local_today().isoformat())
    form.locator("[name='agreement_method']").select_option("oral")
    _save(page)
    page.get_by_test_id("activate-plan").click()
    expect(page.get_by_test_id("plan-status").first).to_have_text(re.compile("Actif|Active"))

    # A change of content is a new version, which the patient agrees to again.
    page.get_by_test_id("revise-plan").click()
    form.locator("[name='priorities']").fill("Rester chez moi avec mon chien et mon jardin")
    _save(page)
    page.get_by_test_id("edit-plan").click()
    form.locator("[name='review_date']").fill((local_today() + timedelta(days=45)).isoformat())
    _save(page)
    page.get_by_test_id("edit-plan").click()
    form.locator("[name='agreement_on']").fill(local_today().isoformat())
    form.locator("[name='agreement_method']").select_option("oral")
    _save(page)
    page.get_by_test_id("activate-plan").click()
    expect(page.get_by_test_id("plan-status").first).to_have_text(re.compile("Actif|Active"))
    plan_url = page.url
    page.goto(plan_url + "/history")
    expect(page.get_by_test_id("revisions").locator("tbody tr")).to_have_count(5)
    page.locator("input[name='before'][value='1']").check()
    page.get_by_role("button", name=re.compile("Comparer|Compare")).click()
    diff = page.get_by_test_id("diff")
    expect(diff.locator("ins")).to_contain_text(["et mon jardin"])
    expect(diff).to_contain_text(re.compile("Date de réévaluation|Review date"))

    printed = page.request.get(plan_url + "/summary.pdf")
    assert printed.status == 200 and printed.headers["content-type"] == "application/pdf"
    _sign_out(page)

    _sign_in(page, live_server, "gp@demo.test")
    page.get_by_test_id("shared-plans").get_by_role("link", name=re.compile("PLANCHON")).click()
    expect(page.get_by_test_id("plan-priorities")).to_have_text(
        "Rester chez moi avec mon chien et mon jardin")
    expect(page.get_by_test_id("edit-plan")).to_have_count(0)
    page.locator("textarea[name='body']").fill("Je la vois le 12, bilan sanguin prévu.")
    page.get_by_test_id("add-comment").click()
    expect(page.get_by_test_id("plan-comment")).to_contain_text("bilan sanguin prévu")
    printed = page.request.get(plan_url + "/summary.pdf")
    assert printed.status == 200 and printed.body().startswith(b"%PDF")
