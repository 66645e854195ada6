"""The scheduler: one entry per registered job, started only where the configuration asks."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger

import config
from coordinator import create_app
from coordinator.extensions import db
from coordinator.jobs import registry, scheduler


def test_every_job_is_scheduled_on_its_trigger(app):
    built = scheduler.build_scheduler(app)
    entries = {entry.id: entry for entry in built.get_jobs()}
    assert set(entries) == set(registry.names())
    hourly = entries["mark_outcome_missing"].trigger
    daily = entries["appointment_reminders"].trigger
    assert isinstance(hourly, CronTrigger) and isinstance(daily, CronTrigger)
    after = datetime(2026, 11, 24, 13, 10, tzinfo=UTC)  # 14:10 in Paris
    assert hourly.get_next_fire_time(None, after) == datetime(2026, 11, 24, 14, 5, tzinfo=UTC)
    assert daily.get_next_fire_time(None, after) == datetime(2026, 11, 25, 5, 30, tzinfo=UTC)
    assert entries["review_overdue_plans"].args == (app, "review_overdue_plans")
    assert not built.running


def test_a_fire_runs_the_slot_of_the_current_time(app, monkeypatch):
    calls = []
    monkeypatch.setattr(scheduler.runner, "run", lambda *args: calls.append(args))
    monkeypatch.setattr(scheduler, "utcnow", lambda: datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    scheduler.fire(app, "appointment_reminders")
    scheduler.fire(app, "mark_outcome_missing")
    assert calls == [(app, "appointment_reminders", "2026-11-25"),
                     (app, "mark_outcome_missing", "2026-11-24T23")]


def test_not_started_unless_enabled(app, tmp_path):
    assert scheduler.EXTENSION_KEY not in app.extensions
    enabled = create_app({"ENV_NAME": "test", "SCHEDULER_ENABLED": True,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 's.sqlite3'}"})
    started = enabled.extensions[scheduler.EXTENSION_KEY]
    try:
        assert started.running
        assert {entry.id for entry in started.get_jobs()} == set(registry.names(enabled))
    finally:
        started.shutdown(wait=False)
        with enabled.app_context():
            db.engine.dispose()


def test_the_environment_turns_the_scheduler_and_smtp_on():
    values = config.env_overrides({"COORDINATOR_SCHEDULER": "true",
                                   "COORDINATOR_SMTP_HOST": "smtp.example.test",
                                   "COORDINATOR_SMTP_PORT": "25"})
    assert values["SCHEDULER_ENABLED"] is True
    assert (values["SMTP_HOST"], values["SMTP_PORT"]) == ("smtp.example.test", 25)
    assert config.Config.SCHEDULER_ENABLED is False and config.Config.SMTP_HOST is None
