"""The runner: one run per job and slot, runs by hand always run, failures are rolled back."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from coordinator.core.time import utcnow
from coordinator.jobs import runner
from coordinator.jobs.models import JobRun
from coordinator.outbox import services as outbox
from coordinator.outbox.models import OutboxMessage
from tests.jobs.conftest import make_appointment


class Records(logging.Handler):
    """The runner's log records (the suite may run without pytest's logging plugin)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def logs():
    logger = logging.getLogger("coordinator.jobs.runner")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.messages
    logger.removeHandler(handler)
    logger.setLevel(level)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_slot_runs_once_and_is_recorded(app, session, logs):
    make_appointment(starts_at=utcnow() + timedelta(hours=2))
    job_run = runner.run(app, "appointment_reminders", "2026-11-24")
    assert runner.run(app, "appointment_reminders", "2026-11-24") is None
    assert (job_run.status, job_run.trigger, job_run.counts) == (
        "succeeded", "schedule", {"created": 1})
    assert job_run.finished_at >= job_run.started_at and job_run.duration_ms >= 0
    assert job_run.host.endswith(f":{os.getpid()}")
    assert _count(session, JobRun) == 1
    assert any("appointment_reminders slot 2026-11-24 succeeded" in m and "'created': 1" in m
               for m in logs)
    assert any("slot 2026-11-24 skipped" in m for m in logs)
    assert runner.run(app, "appointment_reminders", "2026-11-25").counts["created"] == 0


def test_a_run_by_hand_always_runs(app, session):
    first = runner.run_manually(app, "mark_outcome_missing")
    second = runner.run_manually(app, "mark_outcome_missing")
    assert first.slot != second.slot and first.slot.startswith("manual-")
    assert {first.trigger, second.trigger} == {"manual"}
    assert {first.status, second.status} == {"succeeded"}


def test_a_failed_task_is_rolled_back_and_marked_failed(app, session, add_job, logs):
    def explode(session, now):
        outbox.add(session, key="boom:1", kind="test", subject="s", body="b", locale="fr")
        session.flush()
        raise RuntimeError("the printer is on fire")

    add_job("boom", explode)
    job_run = runner.run(app, "boom", "2026-11-24T13")
    assert job_run.status == "failed"
    assert job_run.error == "RuntimeError: the printer is on fire"
    assert job_run.finished_at is not None and job_run.counts is None
    assert session.scalar(select(OutboxMessage).where(OutboxMessage.key == "boom:1")) is None
    assert session.get(JobRun, job_run.id).status == "failed"
    assert any("boom slot 2026-11-24T13 failed" in m for m in logs)


def test_a_task_written_as_steps_is_committed_at_each_step(app, session, add_job):
    def halfway(session, now):
        outbox.add(session, key="step:1", kind="test", subject="s", body="b", locale="fr")
        session.flush()
        yield  # committed by the runner
        outbox.add(session, key="step:2", kind="test", subject="s", body="b", locale="fr")
        session.flush()
        raise RuntimeError("halfway")

    def counted(session, now):
        outbox.add(session, key="step:3", kind="test", subject="s", body="b", locale="fr")
        yield
        return {"steps": 1}

    add_job("halfway", halfway)
    add_job("counted", counted)
    failed = runner.run(app, "halfway", "2026-11-24T13")
    assert (failed.status, failed.error) == ("failed", "RuntimeError: halfway")
    succeeded = runner.run(app, "counted", "2026-11-24T13")
    assert (succeeded.status, succeeded.counts) == ("succeeded", {"steps": 1})
    session.expire_all()
    assert session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like("step:%"))
                           .order_by(OutboxMessage.key)).all() == ["step:1", "step:3"]


def test_an_unknown_job_is_refused(app):
    with pytest.raises(runner.UnknownJob):
        runner.run(app, "nothing", "2026-11-24")


def test_last_and_recent_runs(app, session):
    runner.run(app, "mark_outcome_missing", "2026-11-24T13")
    newest = runner.run(app, "mark_outcome_missing", "2026-11-24T14")
    reminders = runner.run(app, "appointment_reminders", "2026-11-24")
    last = runner.last_runs(session)
    assert last["mark_outcome_missing"].id == newest.id
    assert last["appointment_reminders"].id == reminders.id
    assert "review_overdue_plans" not in last
    assert len(runner.recent_runs(session, limit=2)) == 2


def test_a_failed_or_interrupted_slot_is_run_again_once(app, session):
    failed = JobRun(name="mark_outcome_missing", slot="2026-11-24T13", status="failed",
                    host="gone:1")
    interrupted = JobRun(name="mark_outcome_missing", slot="2026-11-24T14", status="running",
                         host="gone:2", started_at=utcnow() - timedelta(hours=3))
    busy = JobRun(name="mark_outcome_missing", slot="2026-11-24T15", status="running",
                  host="other:3", started_at=utcnow() - timedelta(minutes=5))
    session.add_all([failed, interrupted, busy])
    session.commit()
    assert runner.run(app, "mark_outcome_missing", "2026-11-24T13").status == "succeeded"
    assert runner.run(app, "mark_outcome_missing", "2026-11-24T14").status == "succeeded"
    assert runner.run(app, "mark_outcome_missing", "2026-11-24T15") is None  # still running
    assert runner.run(app, "mark_outcome_missing", "2026-11-24T13") is None  # done now
