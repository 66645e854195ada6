"""A generated registry in a database of its own (SQLite, or PostgreSQL with
TEST_DATABASE_URL), built once per module by the command line as a user runs it."""

from __future__ import annotations

from dataclasses import dataclass

import flask_migrate
import pytest
from flask import Flask

from coordinator import create_app
from coordinator.extensions import db
from coordinator.strata.services import load_reference_data
from tests import dbutil

TODAY = "2026-06-30"
PATIENTS = 600


@dataclass
class Generated:
    app: Flask
    url: str
    output: str


def fresh_app(tmp_path) -> tuple[Flask, str]:
    url = dbutil.fresh_database(tmp_path)
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        db.session.remove()
    return app, url


def close(app: Flask, url: str) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_database(url)


def generate(app: Flask, *args: str, input: str | None = None):
    result = app.test_cli_runner().invoke(args=["generate", *args], input=input)
    with app.app_context():
        db.session.remove()
    return result


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Generated:
    """600 patients, two years to 2026-06-30, seed 7."""
    app, url = fresh_app(tmp_path_factory.mktemp("generated"))
    result = generate(app, "--patients", str(PATIENTS), "--years", "2", "--seed", "7",
                      "--today", TODAY, "--chunk-size", "250")
    assert result.exit_code == 0, result.output
    yield Generated(app=app, url=url, output=result.output)
    close(app, url)


@pytest.fixture
def registry(generated):
    """A session on the generated registry (read only)."""
    with generated.app.app_context():
        yield db.session
        db.session.rollback()
