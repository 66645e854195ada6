"""Role home pages, error pages, health check."""

import re

import pytest
from sqlalchemy.exc import OperationalError

from coordinator.core import health
from coordinator.extensions import db

HOME_TITLES = {
    "case_manager": ("My worklist", "Ma liste de travail"),
    "gp": ("My patients’ plans", "Plans de mes patients"),
    "professional": ("My patients’ plans", "Plans de mes patients"),
    "council": ("Territorial dashboard", "Tableau de bord du territoire"),
    "admin": ("Administration", "Administration"),
}
NAVIGATION = ("/patients/", "/careplans/", "/providers/", "/programs/", "/imports/",
              "/admin/users", "/admin/audit/", "/admin/jobs/")
NAVIGATION_OF = {
    "case_manager": {"/patients/", "/careplans/", "/providers/", "/programs/", "/imports/"},
    "gp": {"/providers/", "/programs/"},
    "professional": {"/providers/", "/programs/"},
    "council": {"/providers/", "/programs/"},
    "admin": set(NAVIGATION),
}


def home(client, language: str = "en") -> str:
    """The signed-in user's home page: it must answer 200 (an error page would pass every
    "not in" check)."""
    response = client.get("/", headers={"Accept-Language": language})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def navigation(body: str) -> set[str]:
    """The addresses the main navigation links to."""
    menu = re.search(r'<ul class="navbar-nav me-auto" data-role="[^"]+">(.*?)</ul>', body,
                     re.S)
    assert menu, "no main navigation"
    return set(re.findall(r'href="([^"]+)"', menu.group(1)))


@pytest.mark.parametrize("role", sorted(HOME_TITLES))
def test_each_role_lands_on_its_own_home_page(client, logged_in, make_user, role):
    logged_in(make_user(role=role))
    english, french = HOME_TITLES[role]
    body = home(client, "en")
    assert f'data-testid="home-title">{english}<' in body
    assert f'data-role="{role}"' in body
    assert f'data-testid="home-title">{french}<' in home(client, "fr")


@pytest.mark.parametrize("role", sorted(NAVIGATION_OF))
def test_navigation_follows_the_role(client, logged_in, make_user, role):
    logged_in(make_user(role=role))
    links = navigation(home(client))
    assert links & set(NAVIGATION) == NAVIGATION_OF[role]


def test_admin_navigation_offers_users_and_audit(client, logged_in, admin):
    logged_in(admin)
    body = home(client)
    assert {"/admin/audit/", "/admin/users"} <= navigation(body)


def test_pages_have_landmarks_and_a_skip_link(client):
    body = client.get("/login").get_data(as_text=True)
    for marker in ('<main id="main"', "<header>", "<footer", 'href="#main"', '<html lang="fr"',
                   '<label class="form-label" for="email">'):
        assert marker in body


def test_css_framework_is_served_locally(client):
    body = client.get("/login").get_data(as_text=True)
    assert "cdn." not in body and "https://" not in body.split("<body")[0]
    css = [line for line in body.splitlines() if "bootstrap" in line and "stylesheet" in line]
    assert css, "bootstrap stylesheet missing"
    href = css[0].split('href="')[1].split('"')[0]
    assert client.get(href).status_code == 200


@pytest.mark.parametrize("language,text", [("fr", "Page introuvable"), ("en", "Page not found")])
def test_404_page_in_both_languages(client, language, text):
    response = client.get("/no/such/page", headers={"Accept-Language": language})
    assert response.status_code == 404
    assert text in response.get_data(as_text=True)


@pytest.mark.parametrize("language,text", [("fr", "Accès refusé"), ("en", "Access denied")])
def test_403_page_in_both_languages(client, logged_in, case_manager, language, text):
    logged_in(case_manager)
    response = client.get("/admin/users", headers={"Accept-Language": language})
    assert response.status_code == 403
    assert text in response.get_data(as_text=True)


@pytest.mark.parametrize("language,text", [("fr", "Erreur du serveur"), ("en", "Server error")])
def test_500_page_without_stack_trace(app, client, logged_in, admin, monkeypatch, language,
                                      text):
    from coordinator.strata import services

    def fail(*args):
        raise RuntimeError("secret internals")

    logged_in(admin)
    monkeypatch.setattr(services, "list_programs", fail)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/", headers={"Accept-Language": language})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert text in body
    assert "secret internals" not in body and "Traceback" not in body


def test_healthz_reports_the_database_and_the_workers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    # no worker runs in the tests, and nothing waits for one (tests/work/test_health.py)
    assert response.json == {"status": "ok", "database": "ok", "workers": "idle"}


@pytest.fixture
def registered_check(app):
    """`registered_check(check)` reports `check` as the workers' part for this test."""
    checks = app.extensions[health._KEY]
    before = checks.get("workers")
    yield lambda check: health.register(app, "workers", check)
    checks["workers"] = before


@pytest.mark.parametrize("workers,code", [("ok", 200), ("unknown", 200), ("idle", 200),
                                          ("stale", 503)])
def test_healthz_answers_503_when_a_registered_part_fails(client, registered_check, workers,
                                                         code):
    registered_check(lambda: workers)
    response = client.get("/healthz")
    assert response.status_code == code
    assert response.json["workers"] == workers
    assert response.json["status"] == ("ok" if code == 200 else "unavailable")


def test_healthz_reports_a_check_that_raises_as_an_error(client, registered_check):
    def broken():
        raise RuntimeError("no heartbeat table")

    registered_check(broken)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["workers"] == "error"


def test_healthz_answers_503_when_the_database_is_unreachable(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
