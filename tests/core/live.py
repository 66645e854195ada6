"""An application on a database of its own, with real commits (tests marked live_database):
users with API tokens and a patient, for the concurrency and fault tests."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import flask_migrate

from coordinator import create_app
from coordinator.auth import services as auth_services
from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.strata.services import load_reference_data
from tests import dbutil, factories

USERS = 6
NO_ANSWER = 0  # the application raised out of its own error handler (Werkzeug's page)


class Live:
    """A migrated database of its own, the application on it, case managers with API tokens
    (`headers(i)`) and a patient."""

    def __init__(self, url: str, **config):
        self.url = url
        # as in production: an unexpected error is an answer (500), not an exception here
        self.config = {"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url,
                       "PROPAGATE_EXCEPTIONS": False, **config}
        self.app = create_app(self.config)
        with self.app.app_context():
            flask_migrate.upgrade()
            load_reference_data(db.session)
            db.session.commit()
            self.users = [factories.make_user(role="case_manager", territory_code="DOUAISIS")
                          for _ in range(USERS)]
            self.emails = [user.email for user in self.users]
            self.secrets = [auth_services.issue_token(db.session, user,
                                                      Actor.system("test")).secret
                            for user in self.users]
            self.patient_id = factories.make_patient().id
            db.session.commit()
            db.session.remove()

    def headers(self, index: int = 0, **extra) -> dict:
        return {"Authorization": f"Bearer {self.secrets[index]}", **extra}

    def other_app(self, **config):
        """Another application (process) on the same database, with other settings."""
        return create_app({**self.config, **config})

    def scalar(self, statement):
        with self.app.app_context():
            value = db.session.scalar(statement)
            db.session.remove()
            return value

    def close(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        dbutil.drop_database(self.url)


def together(count: int, work) -> list:
    """Run `work(index)` in `count` threads released at the same instant; their results."""
    barrier = threading.Barrier(count)

    def run(index):
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def status(response_of) -> int:
    """The status of `response_of()`, NO_ANSWER when the application itself raised."""
    try:
        return response_of().status_code
    except Exception:
        return NO_ANSWER
