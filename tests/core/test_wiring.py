"""The application's extension points are filled from the application factory (`web.py`,
`templating.py`), in one place per kind: not by importing modules, not by registering
blueprints."""

from __future__ import annotations

import pytest
from flask import Flask

from coordinator import create_app, templating, web
from coordinator.careplans.services import move_plans
from coordinator.careplans.views import bp as careplans_bp
from coordinator.core import extending
from coordinator.extensions import db
from coordinator.hl7.services import move_messages
from coordinator.jobs import registry
from coordinator.patients import merge
from coordinator.scheduling.services import move_appointments
from coordinator.scheduling.views import bp as scheduling_bp
from coordinator.stays.services import move_stays
from coordinator.tasks.services import move_tasks

JOB_NAMES = ["mark_outcome_missing", "appointment_reminders", "review_overdue_plans",
             "discharged_without_followup", "purge_printed_documents",
             "metrics_target_alerts", "refresh_metric_counts", "purge_audit_entries",
             "deliver_outbox"]
DOMAIN_GLOBALS = ("appointment_kinds", "appointment_statuses", "no_show_reasons", "paris",
                  "consecutive_no_show",
                  "kind_labels", "domain_labels", "plan_labels", "stay_labels", "task_labels")


def _registered(application) -> tuple[list[str], list, dict]:
    with application.app_context():
        return (registry.names(), extending.providers(merge.MOVE_RECORDS),
                dict(application.jinja_env.globals))


def test_the_application_has_its_movers_jobs_and_template_globals(app):
    names, movers, template_globals = _registered(app)
    assert names == JOB_NAMES
    assert movers == [move_plans, move_appointments, move_stays, move_tasks, move_messages]
    for name in ("can", "policies", "Role", "current_locale", "today", *DOMAIN_GLOBALS):
        assert name in template_globals, name
    assert {"date", "datetime", "number"} <= set(app.jinja_env.filters)


def test_a_second_application_registers_nothing_twice(app, tmp_path):
    before = _registered(app)
    second = create_app({"ENV_NAME": "test",
                         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'w.sqlite3'}"})
    try:
        assert _registered(app) == before  # the first application is left alone
        assert _registered(second)[:2] == before[:2]
        web.wire_extension_points(second)  # and wiring the same application again
        web.register_jobs(second)
        templating.init_app(second)
        assert _registered(second)[:2] == before[:2]
    finally:
        with second.app_context():
            db.engine.dispose()


def test_blueprints_register_no_template_globals():
    bare = Flask(__name__)
    bare.register_blueprint(scheduling_bp)
    bare.register_blueprint(careplans_bp)
    assert not set(DOMAIN_GLOBALS) & set(bare.jinja_env.globals)


def test_two_jobs_of_one_name_are_refused(app):
    registry.register(app, registry.get("deliver_outbox"))  # the same job again: no change
    assert registry.names() == JOB_NAMES
    with pytest.raises(ValueError, match="two jobs are named 'deliver_outbox'"):
        registry.register(app, registry.Job("deliver_outbox", "Another", "daily",
                                            lambda session, now: {}))
    assert registry.names() == JOB_NAMES


def test_the_tasks_follow_stays_outcomes_and_the_record_page(app):
    from coordinator.patients.services import RECORD_PAGE
    from coordinator.scheduling.services import APPOINTMENT_OUTCOME
    from coordinator.stays.services import STAY_CHANGED
    from coordinator.tasks import protocol
    from coordinator.tasks import services as task_services

    with app.app_context():
        # The name `stays.services.STAY_CHANGED` holds.
        assert extending.providers(STAY_CHANGED) == [protocol.on_stay_changed]
        assert extending.providers(APPOINTMENT_OUTCOME) == [task_services.on_outcomes_recorded]
        assert task_services.record_page_context in extending.providers(RECORD_PAGE)
