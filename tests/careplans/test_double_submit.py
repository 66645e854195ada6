"""A form submitted twice at once (a double click, two tabs) has one effect: two saves of the
plan edit form read at the same version give one revision and one conflict page; two "start
a plan" submits for the same patient give one draft. Two requests in two threads of one
application, on a database of their own (a SQLite file, or PostgreSQL), as two threads of a
web worker would serve them; each waits for the other inside the service, after both read the
plan, so that they really race. (On SQLite the second writer waits for the first because a
writing request begins with BEGIN IMMEDIATE, coordinator/core/database.py; with a deferred
BEGIN it failed with "database is locked", a 500, though still with one effect.)"""

from __future__ import annotations

import contextlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import flask_migrate
import pytest
from sqlalchemy import func, select

from coordinator import create_app
from coordinator.auth.models import User
from coordinator.careplans import services
from coordinator.careplans.models import CarePlan, CarePlanRevision
from coordinator.extensions import db
from coordinator.strata.services import load_reference_data
from tests import dbutil, factories
from tests.htmlform import form_fields

pytestmark = pytest.mark.live_database
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ROUNDS = 3


@pytest.fixture
def shared(tmp_path):
    """An application on a migrated database of its own: a case manager, a patient and
    their draft plan."""
    url = dbutil.fresh_database(tmp_path)
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        manager = factories.make_user(role="case_manager", territory_code="DOUAISIS")
        patient = factories.make_patient(case_manager_id=manager.id)
        plan = factories.make_care_plan(patient, user=manager)
        ids = {"email": manager.email, "manager": manager.id, "patient": patient.id,
               "plan": plan.id}
        db.session.remove()
    yield app, ids
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_database(url)


def _signed_in(app, email: str):
    client = app.test_client()
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"csrf_token": token, "email": email,
                                           "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def _meeting_in(monkeypatch, name: str) -> list[threading.Barrier]:
    """The service `name` waits (up to 3 s) for the other request to reach it too: both read
    the plan before either writes. A database that makes the second writer wait for the
    first before it reads (SQLite's BEGIN IMMEDIATE) lets only one in: it goes on alone."""
    barriers = [threading.Barrier(2)]
    original = getattr(services, name)

    def meeting(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barriers[0].wait(timeout=3)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, name, meeting)
    return barriers


def _both(posts) -> list:
    """Run the two posts at once; each one's status code, or the exception it raised."""
    def run(post):
        try:
            return post().status_code
        except Exception as error:  # reported: the test says what it expected
            return f"{type(error).__name__}: {error}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run, posts))


def _count(app, model, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        count = db.session.scalar(query)
        db.session.remove()
        return count


def test_two_saves_of_the_same_version_give_one_revision_and_one_conflict(shared,
                                                                          monkeypatch):
    app, ids = shared
    barriers = _meeting_in(monkeypatch, "save_plan")
    first, second = _signed_in(app, ids["email"]), _signed_in(app, ids["email"])
    url = f"/careplans/{ids['plan']}/edit"
    for round_number in range(1, ROUNDS + 1):
        barriers[0] = threading.Barrier(2)
        forms = [form_fields(client.get(url).get_data(as_text=True), "plan-form")
                 for client in (first, second)]
        assert forms[0]["version"] == forms[1]["version"] == str(round_number)
        forms[0]["priorities"] = f"Rester à domicile, tour {round_number}"
        forms[1]["priorities"] = f"Rester à domicile, tour {round_number} (bis)"
        outcomes = _both([partial(first.post, url, data=forms[0]),
                          partial(second.post, url, data=forms[1])])
        assert _count(app, CarePlanRevision, plan_id=ids["plan"]) == 1 + round_number
        assert sorted(outcomes, key=str) == [302, 409], outcomes
    with app.app_context():
        assert db.session.get(CarePlan, ids["plan"]).version == 1 + ROUNDS
        db.session.remove()


def test_two_starts_of_a_plan_for_the_same_patient_give_one_draft(shared, monkeypatch):
    app, ids = shared
    with app.app_context():  # the patient's draft is closed: a new plan may be started
        plan = db.session.get(CarePlan, ids["plan"])
        manager = db.session.get(User, ids["manager"])
        services.close_plan(db.session, factories.case_plan_actor(manager), plan, "Fin",
                            plan.version)
        db.session.commit()
        db.session.remove()
    _meeting_in(monkeypatch, "create_plan")
    first, second = _signed_in(app, ids["email"]), _signed_in(app, ids["email"])
    url = f"/careplans/new/{ids['patient']}"
    forms = [form_fields(client.get(url).get_data(as_text=True), "plan-form")
             for client in (first, second)]
    for form in forms:
        form["goals-0-description"] = form.get("goals-0-description") or "Rester à domicile"
    outcomes = _both([partial(first.post, url, data=forms[0]),
                      partial(second.post, url, data=forms[1])])
    assert _count(app, CarePlan, patient_id=ids["patient"], status="draft") == 1
    assert sorted(outcomes, key=str) == [302, 400], outcomes
