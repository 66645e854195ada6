"""Fixtures: one application and database per run, every test inside a rolled-back transaction."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy
from flask import g
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker

from coordinator import create_app
from coordinator.extensions import db, limiter
from coordinator.strata.services import load_reference_data
from tests import dbutil, factories, querycount

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# `make mutation` runs the selected tests once per mutant, each time in a new pytest session:
# there the migrated SQLite database is built once, kept at this path, and copied by the next
# sessions instead of migrating again (the schema is the migrations' all the same).
DB_TEMPLATE = os.environ.get("COORDINATOR_TEST_DB_TEMPLATE")


class Client(FlaskClient):
    """A test client whose requests each start with a clean `g`, as in production, although
    the test keeps one application context (and one database transaction) open."""

    def open(self, *args, **kwargs):
        for key in list(g):
            g.pop(key, None)
        return super().open(*args, **kwargs)

    def csrf_token(self, path: str = "/login") -> str:
        match = CSRF_RE.search(self.get(path).get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = factories.PASSWORD):
        token = self.csrf_token("/login")
        return self.post("/login", data={"csrf_token": token, "email": email,
                                         "password": password})


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if dbutil.is_postgres():
        dbutil.reset_postgres_schema(dbutil.TEST_DATABASE_URL)
        return dbutil.TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    if DB_TEMPLATE and Path(DB_TEMPLATE).exists():
        shutil.copyfile(DB_TEMPLATE, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def app(database_url):
    """The application, its schema built by the migrations as in production."""
    application = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": database_url})
    application.test_client_class = Client
    with application.app_context():
        if not sqlalchemy.inspect(db.engine).has_table("alembic_version"):
            flask_migrate.upgrade()
            load_reference_data(db.session)
            db.session.commit()
            _keep_as_template(database_url)
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


def _keep_as_template(url: str) -> None:
    if not DB_TEMPLATE or not url.startswith("sqlite:///"):
        return
    db.engine.dispose()  # the last connection closed: the WAL is written back into the file
    partial = Path(f"{DB_TEMPLATE}.{os.getpid()}")
    shutil.copyfile(url.removeprefix("sqlite:///"), partial)
    partial.replace(DB_TEMPLATE)  # atomic: a concurrent session reads a whole file or none


@pytest.fixture(autouse=True)
def _isolated(request, app):
    """Each test runs in a transaction rolled back at its end; commits become savepoints."""
    limiter.reset()
    if request.node.get_closest_marker("live_database"):
        yield
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def count_queries(app):
    """`with count_queries() as queries: client.get(...)`, then `queries.count`: the SQL
    statements sent inside the block (what is counted: tests/querycount.py)."""
    return querycount.count_queries


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def make_user(app):
    return factories.make_user


@pytest.fixture
def admin(make_user):
    return make_user(role="admin")


@pytest.fixture
def case_manager(make_user):
    return make_user(role="case_manager", territory_code="DOUAISIS")


@pytest.fixture
def council(make_user):
    return make_user(role="council", territory_code="DOUAISIS")


@pytest.fixture
def other_case_manager(make_user):
    """A case manager of another territory (CORNOUAILLE)."""
    return make_user(role="case_manager", territory_code="CORNOUAILLE")


@pytest.fixture
def logged_in(client):
    """Sign a user in on the test client: `logged_in(user)`."""

    def sign_in(user):
        response = client.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in
