"""As a case manager would: in the care-plan form, they type part of a town, without its
accent, in a care-team provider box, pick the provider the directory suggests, and the plan
saves with that provider. The box is the vendored Tom Select over GET /providers/search; the
page breaks no rule of its Content Security Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.providers import services as provider_services
from coordinator.strata.models import Territory
from tests.browser.test_care_plan_flow import _save, _sign_in, new_patient  # noqa: F401


@pytest.fixture
def nurse_of_ecaillon(live_app):
    """A nurse of the patient's territory whose name says nothing of her town."""
    with live_app.app_context():
        territory = db.session.query(Territory).filter_by(code="DOUAISIS").one()
        nurse = provider_services.create_provider(db.session, Actor.system("browser-test"), {
            "kind": "nurse", "name": "Bérénice Vasseur", "city": "Écaillon",
            "territory_id": territory.id})
        db.session.commit()
        nurse_id = nurse.id
        db.session.remove()
    return nurse_id


def test_a_provider_is_found_by_part_of_a_town_and_saved(live_server, page, new_patient,  # noqa: F811
                                                         nurse_of_ecaillon):
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    _sign_in(page, live_server, "case.manager@demo.test")
    page.goto(f"{live_server}/careplans/new/{new_patient}")
    form = page.get_by_test_id("plan-form")
    select = form.locator("select[name='team-0-provider_id']")
    # The server's select is still there, grouped by kind: the form works without scripts.
    expect(select.locator("optgroup[label='Infirmier'] option",
                          has_text="Bérénice Vasseur — Infirmier — Écaillon")).to_have_count(1)

    # The empty box (the select's "—") shows its placeholder; a click opens it for typing.
    page.locator("select[name='team-0-provider_id'] + .ts-wrapper .ts-control").click()
    with page.expect_response(lambda r: "/providers/search?" in r.url
                              and r.url.endswith("q=ecail")) as searched:
        page.locator("#team-0-provider_id-ts-control").press_sequentially("ecail", delay=50)
    assert [row["id"] for row in searched.value.json()["results"]] == [nurse_of_ecaillon]
    suggestion = page.locator("#team-0-provider_id-ts-dropdown .option",
                              has_text="Bérénice Vasseur")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text("Écaillon")
    suggestion.click()
    expect(select).to_have_value(str(nurse_of_ecaillon))
    form.locator("[name='team-0-role']").fill("Soins à domicile")
    _save(page)
    expect(page.get_by_text("Bérénice Vasseur").first).to_be_visible()

    page.get_by_test_id("edit-plan").click()
    select = page.locator("select[name='team-0-provider_id']")
    expect(select).to_have_value(str(nurse_of_ecaillon))
    # The box's cross empties it: the select posts the blank choice again.
    page.locator("select[name='team-0-provider_id'] + .ts-wrapper .clear-button").click()
    expect(select).to_have_value("")
    assert refused == []
