"""Faults of the database, injected: it goes away mid-request, it is unreachable from the start,
it refuses writes, another writer holds its lock. Each answer is a clean 503 (the API's JSON
error, or the HTML page), nothing is half-written, and the next request after the fault
succeeds without a restart; /healthz tells which part fails."""

from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from coordinator import create_app
from coordinator.audit.models import AuditEntry
from coordinator.careplans.models import CarePlan, CarePlanRevision
from coordinator.extensions import db
from coordinator.patients.models import Patient
from tests import dbutil, factories
from tests.conftest import CSRF_RE

pytestmark = pytest.mark.live_database
WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
UNAVAILABLE = {
    "en": "The database is busy or unavailable, so this request could not be completed. "
          "Try again in a moment.",
    "fr": "La base de données est occupée ou indisponible : cette demande n’a pas pu aboutir. "
          "Réessayez dans un instant.",
}


@contextmanager
def database_fails(app, *, after_writes: int | None = None):
    """The database goes away: at once (`after_writes=None`), or mid-request at the write after
    the first `after_writes` ones (its reads done). From then on every statement fails, reads
    included: an error answer that still asked the database would fail too."""
    with app.app_context():
        engine = db.engine
    error_class = engine.dialect.loaded_dbapi.OperationalError
    writes = 0
    gone = after_writes is None

    def fail(connection, cursor, statement, parameters, context, executemany):
        nonlocal writes, gone
        if not gone and WRITE.match(statement):
            writes += 1
            gone = writes > after_writes
        if gone:
            raise error_class("disk I/O error (injected: the database went away)")

    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", fail)


def counts(live) -> tuple:
    with live.app.app_context():
        values = tuple(db.session.scalar(select(func.count()).select_from(model))
                       for model in (AuditEntry, CarePlanRevision))
        plan_versions = db.session.scalar(select(func.sum(CarePlan.version)))
        db.session.remove()
    return (*values, plan_versions)


def assert_json_503(response, language: str = "en") -> None:
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.json == {"errors": {"_request": [UNAVAILABLE[language]]}}
    assert response.headers["Retry-After"] == "5"


def assert_html_503(response, language: str) -> None:
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert UNAVAILABLE[language] in body and f'<html lang="{language}"' in body
    assert "Werkzeug" not in body and "Traceback" not in body


@pytest.fixture
def plan(live):
    with live.app.app_context():
        plan = factories.make_care_plan(db.session.get(Patient, live.patient_id))
        ids = plan.id, f'"{plan.id}-{plan.version}"'
        db.session.remove()
    return ids


def test_the_database_going_away_mid_save_writes_nothing_and_recovers(live, plan):
    """The save of a plan fails at its second write (the plan updated, its revision not yet
    inserted): 503 JSON, nothing of it is kept; the same request then succeeds."""
    plan_id, etag = plan
    client = live.app.test_client()
    before = counts(live)
    body = {"priorities": "Rester à domicile, avec de l’aide"}
    headers = live.headers(**{"If-Match": etag, "Accept-Language": "en"})
    with database_fails(live.app, after_writes=1):
        response = client.patch(f"/api/v1/careplans/{plan_id}", json=body, headers=headers)
    assert_json_503(response)
    assert counts(live) == before
    response = client.patch(f"/api/v1/careplans/{plan_id}", json=body, headers=headers)
    assert response.status_code == 200
    assert response.json["priorities"] == body["priorities"]


def test_an_api_error_is_in_the_users_language_without_asking_the_database(live):
    """The user's saved language (English) was read with the user: the error answered after
    the database went away (at the audit entry of a read) is in English, not in the
    browser's French, and the read left no audit entry."""
    with live.app.app_context():
        db.session.execute(text("UPDATE user_account SET locale = 'en'"))
        db.session.commit()
        db.session.remove()
    client = live.app.test_client()
    before = counts(live)
    with database_fails(live.app, after_writes=0):
        response = client.get(f"/api/v1/patients/{live.patient_id}",
                              headers=live.headers(**{"Accept-Language": "fr"}))
    assert_json_503(response, "en")
    assert counts(live) == before


def test_a_page_gives_the_html_error_when_the_database_goes_away(live):
    client = live.app.test_client()
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"csrf_token": token, "email": live.emails[0],
                                           "password": factories.PASSWORD})
    assert response.status_code == 302
    before = counts(live)
    with database_fails(live.app, after_writes=0):  # the audit entry of the read fails
        response = client.get(f"/patients/{live.patient_id}", headers={"Accept-Language": "en"})
    assert_html_503(response, "en")
    assert counts(live) == before
    with database_fails(live.app):  # not even the signed-in user can be loaded
        response = client.get(f"/patients/{live.patient_id}", headers={"Accept-Language": "fr"})
    assert_html_503(response, "fr")
    assert client.get(f"/patients/{live.patient_id}").status_code == 200  # recovered


def test_everything_answers_503_while_the_database_is_gone(live):
    client = live.app.test_client()
    with database_fails(live.app):
        assert_json_503(client.get("/api/v1/me", headers=live.headers(
            **{"Accept-Language": "en"})))
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json == {"status": "unavailable", "database": "unreachable",
                               "workers": "unknown"}
    assert client.get("/api/v1/me", headers=live.headers()).status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("url", [
    "sqlite:////nonexistent-directory/coordinator.sqlite3",
    "postgresql+psycopg://coordinator@127.0.0.1:1/coordinator",  # nothing listens there
])
def test_an_unreachable_database_gives_clean_503s(url):
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url,
                      "PROPAGATE_EXCEPTIONS": False})
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["database"] == "unreachable"
    assert_json_503(client.get("/api/v1/me", headers={"Authorization": "Bearer cdt_x",
                                                      "Accept-Language": "en"}))
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", headers={"Accept-Language": "fr"},
                           data={"csrf_token": token, "email": "a@example.org",
                                 "password": "whatever-it-is"})
    assert_html_503(response, "fr")
    with app.app_context():
        db.engine.dispose()


def test_healthz_is_ok_on_a_database_that_accepts_writes(live):
    response = live.app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "workers": "idle"}


@contextmanager
def read_only(live):
    """The same database, refusing writes: a read-only SQLite file (opened `mode=ro`, as on a
    read-only volume), or a PostgreSQL database whose transactions are read-only."""
    if not dbutil.is_postgres():
        path = make_url(live.url).database
        app = live.other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///file:{path}?mode=ro&uri=true")
        yield app
    else:
        name = make_url(live.url).database
        admin = create_engine(live.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only'
                                    " = on"))
        app = live.other_app()
        try:
            yield app
        finally:
            with admin.connect() as connection:
                connection.execute(text("SET default_transaction_read_only = off"))
                connection.execute(text(f'ALTER DATABASE "{name}" RESET '
                                        "default_transaction_read_only"))
            admin.dispose()
    with app.app_context():
        db.engine.dispose()


def test_a_read_only_database_fails_readiness_and_writes_answer_503(live, plan):
    plan_id, etag = plan
    before = counts(live)
    with read_only(live) as app:
        client = app.test_client()
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json == {"status": "unavailable", "database": "read_only",
                                 "workers": "idle"}
        response = client.patch(f"/api/v1/careplans/{plan_id}", json={"priorities": "Non"},
                                headers=live.headers(**{"If-Match": etag,
                                                        "Accept-Language": "en"}))
        assert_json_503(response)
    assert counts(live) == before
    assert live.app.test_client().get("/healthz").status_code == 200


@pytest.mark.skipif(dbutil.is_postgres(), reason="SQLite's database-wide write lock")
def test_healthz_says_busy_but_ready_while_another_writer_holds_the_lock(live):
    """A long import holds SQLite's write lock: the database works (writes wait), so the probe
    answers 200 "busy" after its short timeout instead of failing the instance."""
    writer = sqlite3.connect(make_url(live.url).database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        response = live.other_app(HEALTHZ_TIMEOUT=0.2).test_client().get("/healthz")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "busy", "workers": "idle"}


@pytest.mark.skipif(dbutil.is_postgres(), reason="SQLite's database-wide write lock")
def test_a_lock_held_past_the_busy_timeout_gives_a_clean_503_then_recovers(live, plan):
    """Another process holds the write lock longer than SQLITE_BUSY_TIMEOUT: an audited read
    and a save answer 503 (JSON, Retry-After), write nothing; once it is released, both work."""
    plan_id, etag = plan
    app = live.other_app(SQLITE_BUSY_TIMEOUT=0.3)
    client = app.test_client()
    headers = live.headers(**{"Accept-Language": "en"})
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # token's last use
    before = counts(live)
    writer = sqlite3.connect(make_url(live.url).database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        assert_json_503(client.get(f"/api/v1/patients/{live.patient_id}", headers=headers))
        assert_json_503(client.patch(f"/api/v1/careplans/{plan_id}", json={"priorities": "Non"},
                                     headers={**headers, "If-Match": etag}))
        assert client.get("/api/v1/me", headers=headers).status_code == 200  # reads go on
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert counts(live) == before
    assert client.get(f"/api/v1/patients/{live.patient_id}", headers=headers).status_code == 200
    assert client.patch(f"/api/v1/careplans/{plan_id}", json={"priorities": "Oui"},
                        headers={**headers, "If-Match": etag}).status_code == 200
    with app.app_context():
        db.engine.dispose()
