"""As a person would: sign in with each demo account, see the home page, switch language,
sign out."""

import re

import pytest
from playwright.sync_api import expect

from coordinator import demo

HOMES = {
    "case_manager": ("Ma liste de travail", "My worklist"),
    "gp": ("Plans de mes patients", "My patients’ plans"),
    "council": ("Tableau de bord du territoire", "Territorial dashboard"),
    "admin": ("Administration", "Administration"),
}


@pytest.mark.parametrize("account", demo.DEMO_ACCOUNTS, ids=lambda a: a.role)
def test_demo_account_signs_in_switches_language_and_signs_out(live_server, page, account):
    french_title, english_title = HOMES[account.role]
    page.goto(live_server + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("E-mail").fill(account.email)
    page.get_by_label("Mot de passe").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_test_id("home-title")).to_have_text(french_title)
    expect(page.get_by_test_id("user-name")).to_contain_text(account.full_name)

    page.get_by_role("button", name="English").click()
    expect(page.get_by_test_id("home-title")).to_have_text(english_title)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto(live_server + "/")
    expect(page).to_have_url(re.compile(r"/login"))


def test_wrong_password_shows_a_message_in_the_page(live_server, page):
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("admin@demo.test")
    page.get_by_label("Mot de passe").fill("not the password")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("status")).to_contain_text("Adresse e-mail ou mot de passe incorrect")
