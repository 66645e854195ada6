"""As each demo user would, on a desktop and on a 390 x 844 phone, in French and in English:
the main pages of their role open without an error, nothing makes the page scroll sideways
(a wide table scrolls inside its box), the menu collapses behind its toggle on the phone and
every entry of it is reachable there, and the page is in the reader's language."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from coordinator import demo
from coordinator.auth import services as auth_services
from coordinator.auth.models import User
from coordinator.careplans.models import CarePlan
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
LANGUAGES = {"fr": "Français", "en": "English"}


@pytest.fixture(scope="module")
def records(live_app):
    """A demo patient of the demo GP who consents, with a shared plan, and a provider."""
    with live_app.app_context():
        gp = auth_services.find_user(db.session, "gp@demo.test")
        row = db.session.execute(
            select(Patient.id, CarePlan.id)
            .join(CarePlan, CarePlan.patient_id == Patient.id)
            .where(Patient.gp_id == gp.provider_id, Patient.consent_share.is_(True),
                   CarePlan.activated_on.is_not(None), CarePlan.closed_on.is_(None))
            .order_by(Patient.id).limit(1)).one()
        provider = db.session.scalar(select(Provider.id).order_by(Provider.id).limit(1))
        db.session.remove()
    return {"patient": row[0], "plan": row[1], "provider": provider}


def pages(role: str, ids: dict) -> list[str]:
    patient, plan = ids["patient"], ids["plan"]
    return {
        "case_manager": ["/", "/patients/", f"/patients/{patient}", f"/careplans/{plan}",
                         "/careplans/", "/calendar/caseload", "/scheduling/day",
                         "/scheduling/no-shows", "/tasks/", "/providers/",
                         f"/providers/{ids['provider']}", "/imports/", "/hl7/",
                         f"/patients/{patient}/timeline"],
        "gp": ["/", "/careplans/", f"/careplans/{plan}", "/account"],
        "council": ["/", "/metrics/", "/metrics/targets/"],
        "admin": ["/", "/admin/users", "/admin/audit/", "/admin/jobs/", "/admin/jobs/outbox",
                  "/patients/", "/programs/", "/providers/", "/imports/", "/patients/merge"],
    }[role]


def sign_in(page, live_server, email: str, language: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_test_id("home-title")).to_be_visible()
    choose_language(page, language)


def choose_language(page, language: str) -> None:
    """The language is the account's last choice: chosen here either way (on a phone, the
    language buttons are in the collapsed menu)."""
    page.wait_for_load_state()
    if page.locator("html").get_attribute("lang") != language:
        toggle = page.locator(".navbar-toggler")
        if toggle.is_visible():
            toggle.click()
            # opened, its animation over (Bootstrap: `collapsing`, then `collapse show`)
            expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
        with page.expect_navigation():
            page.get_by_role("button", name=LANGUAGES[language]).click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def sideways_overflow(page) -> tuple[int, list[str]]:
    """How far (px) the page itself scrolls sideways (0 when nothing sticks out), and the
    outermost elements that stick out (tag.class), to say where."""
    return page.evaluate("""() => {
        const width = window.innerWidth;
        const out = [];
        for (const element of document.body.querySelectorAll("*")) {
            if (element.getBoundingClientRect().right <= width + 1) continue;
            let parent = element.parentElement, inside = false;
            while (parent && parent !== document.body) {
                if (out.includes(parent) || getComputedStyle(parent).overflowX !== "visible") {
                    inside = true; break;
                }
                parent = parent.parentElement;
            }
            if (!inside) out.push(element);
        }
        return [document.documentElement.scrollWidth - width,
                out.slice(0, 3).map(e => e.tagName.toLowerCase() + "." +
                                         [...e.classList].join("."))];
    }""")


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("account", demo.DEMO_ACCOUNTS, ids=lambda a: a.role)
def test_the_main_pages_of_each_role(live_server, live_app, browser, records, account,
                                     viewport, language):
    size = PHONE if viewport == "phone" else DESKTOP
    context = browser.new_context(locale="fr-FR", viewport=size)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in(page, live_server, account.email, language)
        problems = []
        for path in pages(account.role, records):
            answer = page.goto(live_server + path)
            if answer is None or answer.status != 200:
                problems.append(f"{path}: HTTP {answer.status if answer else '-'}")
                continue
            if page.locator("html").get_attribute("lang") != language:
                problems.append(f"{path}: not in {language}")
            overflow, where = sideways_overflow(page)
            if overflow > 0:
                problems.append(f"{path}: the page scrolls sideways by {overflow} px ({where})")
        assert problems == [], "\n".join(problems)
        if viewport == "phone":
            page.goto(live_server + "/")
            toggle = page.locator(".navbar-toggler")
            expect(toggle).to_be_visible()
            menu = page.locator("#main-nav")
            expect(menu).to_be_hidden()
            toggle.click()
            expect(menu).to_be_visible()
            for link in menu.locator("a.nav-link").all():
                expect(link).to_be_visible()
    finally:
        context.close()
        # the demo accounts are left in French, as the other browser tests expect them (the
        # switch itself was tested above)
        with live_app.app_context():
            db.session.execute(update(User).where(User.email == account.email)
                               .values(locale="fr"))
            db.session.commit()
            db.session.remove()
