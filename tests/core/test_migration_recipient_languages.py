"""Migration 0026: `patient.language` ('fr' for the patients already registered) and
`outbox_message.locale` (French for the reminders written before, when every reminder was in
French; unknown for the other messages); the downgrade removes both."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import text

from coordinator import ROOT, create_app
from coordinator.extensions import db
from coordinator.outbox import services as outbox
from coordinator.strata.services import load_reference_data
from tests import dbutil, factories

pytestmark = pytest.mark.live_database
REVISION = "0026"


def _before() -> str:
    config = AlembicConfig(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    down = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def _columns(table: str) -> set[str]:
    return {column["name"] for column in db.inspect(db.engine).get_columns(table)}


def test_upgrade_fills_the_languages_and_downgrade_removes_them(tmp_path):
    url = dbutil.fresh_database(tmp_path)
    application = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    try:
        with application.app_context(), application.test_request_context():
            flask_migrate.upgrade()
            load_reference_data(db.session)
            patient = factories.make_patient(language="en")
            user = factories.make_user(role="case_manager", locale="en")
            outbox.add(db.session, key="reminder:1", kind="appointment_reminder",
                       subject="Rappel", body="Bonjour", locale="en", patient_id=patient.id)
            outbox.add(db.session, key="review:1", kind="review_overdue", subject="1 plan",
                       body="…", locale="en", user_id=user.id)
            db.session.commit()
            db.session.close()  # no read transaction left open across the migrations

            flask_migrate.downgrade(revision=_before())
            assert "language" not in _columns("patient")
            assert "locale" not in _columns("outbox_message")

            flask_migrate.upgrade(revision=REVISION)
            languages = db.session.execute(text("SELECT language FROM patient")).scalars().all()
            locales = dict(db.session.execute(text(
                "SELECT kind, locale FROM outbox_message")).all())
            db.session.close()  # its read would hold the downgrade's lock (PostgreSQL)
            assert languages == ["fr"]  # the patients registered before: French
            assert locales == {"appointment_reminder": "fr", "review_overdue": None}

            flask_migrate.downgrade(revision=_before())
            assert "language" not in _columns("patient")
            assert "locale" not in _columns("outbox_message")
            flask_migrate.upgrade()  # and up again, cleanly
            assert "language" in _columns("patient")
            db.session.remove()
    finally:
        with application.app_context():
            db.engine.dispose()
        dbutil.drop_database(url)
