"""As a new user would: the demo council opens the dashboard from its home page, changes the
period, sees a target not met, drills down to a program's stratum, compares the territories
and downloads a table as CSV."""

from __future__ import annotations

import csv
import io
import os
import re

from playwright.sync_api import expect

from coordinator import demo
from coordinator.core.time import local_today

SCREENSHOTS = os.environ.get("DASHBOARD_SCREENSHOTS")  # a folder, to look at the page


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_council_dashboard(live_server, page):
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("council@demo.test")
    page.get_by_label("Mot de passe").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_test_id("open-dashboard").click()
    expect(page.get_by_test_id("dashboard-title")).to_have_text("Chiffres du registre")
    expect(page.get_by_test_id("selection")).to_contain_text("DOUAISIS")
    shot(page, "1-default")

    # The period: this year, a GET form that needs no script.
    year = local_today().year
    page.get_by_label("Période").select_option("year")
    page.get_by_label("Année", exact=True).fill(str(year))
    page.get_by_role("button", name="Afficher les chiffres").click()
    expect(page).to_have_url(re.compile(rf"period=year&year={year}"))
    expect(page.get_by_test_id("selection")).to_contain_text(f"1 janvier {year}")
    expect(page.get_by_test_id("selection")).to_contain_text(f"31 décembre {year}")
    expect(page.get_by_test_id("suppression-note")).to_be_visible()
    # each chart is drawn on the server, titled, without a script
    charts = page.locator("figure.metrics-chart svg")
    expect(charts.first).to_be_visible()
    assert page.locator("svg script").count() == 0
    assert charts.count() >= 4
    shot(page, "2-year")

    # A target not met, said in words (and colour) in the drill-down.
    drilldown = page.locator("table[data-table=drilldown]")
    not_met = drilldown.locator("[data-status=not_met]")
    expect(not_met.first).to_contain_text("non atteint")
    worst = drilldown.locator("tbody tr").first
    expect(worst.locator("[data-status]")).to_have_attribute("data-status", "not_met")
    program = worst.locator("th").inner_text().strip()

    # Drill down: the worst row's program or stratum, the same period.
    worst.locator("th a").click()
    expect(page).to_have_url(re.compile(rf"program={program}"))
    expect(page).to_have_url(re.compile(rf"year={year}"))
    expect(page.get_by_test_id("selection")).to_contain_text(program)
    expect(page.locator("table[data-table=indicators] [data-status]").first).to_be_visible()
    shot(page, "3-drilled")

    # The territories compared: all five, only its own with a link to the detail.
    comparison = page.locator("table[data-table=comparison] tbody tr")
    expect(comparison).to_have_count(5)
    expect(comparison.locator("th a")).to_have_count(1)
    expect(comparison.locator("th a")).to_have_text("DOUAISIS")

    # A table as CSV: French, with its BOM, `;` and marks for what is withheld.
    with page.expect_download() as download:
        page.get_by_test_id("csv-comparison").click()
    path = download.value.path()
    with open(path, encoding="utf-8") as file:
        body = file.read()
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0][0] == "Territoire"
    assert [row[0] for row in rows[1:]] == ["AUBE-SEZ", "CORNOUAILLE", "DEUX-SEVRES",
                                            "DOUAISIS", "HAUTE-SAONE"]
    assert download.value.suggested_filename.startswith("comparison-")
