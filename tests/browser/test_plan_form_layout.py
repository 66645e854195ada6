"""The actions of the plan form read on a desktop screen (issue #16): the description and the
provider of an action keep a readable width, not a column a few words wide."""

from __future__ import annotations

from tests.browser.test_care_plan_flow import _sign_in, new_patient  # noqa: F401 (a fixture)


def test_an_actions_description_and_provider_are_readable_on_a_desktop(
        live_server, page, new_patient):  # noqa: F811
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in(page, live_server, "case.manager@demo.test")
    page.goto(f"{live_server}/careplans/new/{new_patient}")
    form = page.get_by_test_id("plan-form")
    description = form.locator("[name='goals-0-actions-0-description']").bounding_box()
    # the provider's box as the user sees it: the search box (Tom Select) that stands for
    # the select once the page's script has run
    provider = form.locator("select[name='goals-0-actions-0-provider_id'] + .ts-wrapper"
                            " .ts-control").bounding_box()
    responsible = form.locator("[name='goals-0-actions-0-responsible']").bounding_box()
    assert description is not None and provider is not None and responsible is not None
    assert description["width"] >= 400, description
    assert provider["width"] >= 280, provider
    assert responsible["width"] >= 200, responsible  # "Un professionnel" not cut
    # and its labels are read with it: the action's own legend names it
    assert form.get_by_text("Action 1 de l’objectif 1", exact=True).is_visible()
