"""Stored message codes (coordinator/core/messages.py), and the migration that keeps them
beside the texts written before (0026)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import flask_migrate
import pytest
from flask_babel import force_locale, lazy_ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select, text

from coordinator import create_app
from coordinator.core import messages
from coordinator.extensions import db
from coordinator.scheduling.models import FollowUpRound
from coordinator.strata.services import load_reference_data
from tests import dbutil, factories


def test_a_lazy_message_renders_in_the_readers_language(app):
    with app.app_context():
        code = messages.stored(_l("Unknown territory “%(code)s”.", code="XX"))
        with force_locale("en"):
            assert messages.render(code) == "Unknown territory “XX”."
        with force_locale("fr"):
            assert messages.render(code) != "Unknown territory “XX”."
            assert "XX" in messages.render(code)


def test_nested_messages_plurals_and_two_languages(app):
    with app.app_context():
        inner = _l("Goal %(number)d", number=2)
        code = messages.stored(_l("%(message)s Imported as asked (accept_duplicates).",
                                  message=inner))
        plural = messages.stored(lazy_ngettext("%(num)d appointment booked.",
                                               "%(num)d appointments booked.", 3))
        named = messages.stored(_l("Template of %(code)s — %(name)s", code="HF-3",
                                   name=messages.in_languages("Insuffisance", "Failure")))
        with force_locale("en"):
            assert messages.render(code).startswith("Goal 2 ")
            assert messages.render(plural) == "3 appointments booked."
            assert messages.render(named) == "Template of HF-3 — Failure"
        with force_locale("fr"):
            assert messages.render(code).startswith("Objectif 2 ")
            assert messages.render(named).endswith("— Insuffisance")


def test_a_text_without_code_or_with_an_unreadable_one_stays_as_written(app):
    with app.app_context(), force_locale("fr"):
        assert messages.stored("plain words") is None
        assert messages.render(None, fallback="as written") == "as written"
        assert messages.render({"f": "eval", "a": ["1"]}, fallback="as written") == "as written"
        assert messages.render({"f": "gettext", "a": ["%(x)s"], "p": {"y": 1}},
                               fallback="as written") == "as written"


@pytest.mark.live_database
def test_the_migration_keeps_existing_texts_and_downgrades(tmp_path):
    url = dbutil.fresh_database(tmp_path)
    application = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    tables = {"followup_round": "label_code", "care_plan": "close_reason_code",
              "care_plan_goal": "description_code", "care_plan_revision": "changed_codes"}

    def columns(table: str) -> set[str]:
        return {c["name"] for c in inspect(db.engine).get_columns(table)}

    try:
        with application.app_context(), application.test_request_context(
                headers={"Accept-Language": "fr"}):
            flask_migrate.upgrade()
            load_reference_data(db.session)
            patient = factories.make_patient()
            factories.make_appointment(patient, factories.make_provider("nurse"),
                                       datetime.now(UTC) + timedelta(days=3),
                                       round_label=_l("Plan action: %(what)s (%(every)s, "
                                                      "%(times)s)", what="Pansement",
                                                      every=lazy_ngettext(
                                                          "every day", "every %(num)d days", 2),
                                                      times=lazy_ngettext(
                                                          "%(num)d time", "%(num)d times", 3)))
            db.session.commit()
            db.session.close()  # no read transaction left open across the migrations
            flask_migrate.downgrade(revision="0027")  # a row written before the codes
            for table, column in tables.items():
                assert column not in columns(table)
            flask_migrate.upgrade()
            for table, column in tables.items():
                assert column in columns(table)
            round_ = db.session.scalars(select(FollowUpRound)).one()
            assert round_.label_code is None
            with force_locale("en"):  # the French text, as it was written
                assert round_.label.startswith("Action du plan")
                assert round_.display_label == round_.label
            db.session.close()
            flask_migrate.downgrade(revision="0027")
            if db.engine.dialect.name == "sqlite":  # the revisions stay append-only
                triggers = set(db.session.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'care_plan_revision'")).scalars())
                assert triggers == {"care_plan_revision_no_update",
                                    "care_plan_revision_no_delete"}
            db.session.remove()
    finally:
        with application.app_context():
            db.engine.dispose()
        dbutil.drop_database(url)
