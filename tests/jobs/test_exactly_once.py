"""Exactly one run per schedule slot when several processes (or hosts) run the scheduler: two
processes, each with its own application, race for the same slot of the same database."""

from __future__ import annotations

import multiprocessing
import queue
import time
from datetime import datetime, timedelta

import flask_migrate
import pytest
from sqlalchemy import select

from coordinator import create_app
from coordinator.core.time import PARIS, utcnow
from coordinator.extensions import db
from coordinator.jobs import registry
from coordinator.jobs.models import JobRun
from coordinator.outbox import services as outbox
from coordinator.outbox.models import OutboxMessage
from coordinator.strata.services import load_reference_data
from tests import dbutil
from tests.jobs import workers
from tests.jobs.conftest import make_appointment

pytestmark = pytest.mark.live_database
SPAWN = multiprocessing.get_context("spawn")
JOB = "appointment_reminders"
TIMEOUT = 180


@pytest.fixture
def shared(tmp_path):
    """A migrated database of its own with three appointments in the next 48 hours."""
    url = dbutil.fresh_database(tmp_path)
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        ids = [make_appointment(starts_at=utcnow() + timedelta(hours=hours)).id
               for hours in (2, 5, 30)]
        db.session.remove()
    yield app, url, ids
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_database(url)


def _start(target, *args) -> tuple[list, object]:
    """Two processes running `target(*args, results)`."""
    results = SPAWN.Queue()
    processes = [SPAWN.Process(target=target, args=(*args, results)) for _ in range(2)]
    for process in processes:
        process.start()
    return processes, results


def _outcomes(processes: list, results) -> list[str]:
    """Wait for both processes; what each reported ("succeeded" or "skipped")."""
    outcomes: list[str] = []
    deadline = time.monotonic() + TIMEOUT
    while len(outcomes) < len(processes) and time.monotonic() < deadline:
        try:
            outcomes.append(results.get(timeout=1)[1])
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                break  # a process died without reporting: its exit code says so below
    for process in processes:
        process.join(timeout=TIMEOUT)
        assert process.exitcode == 0
    return outcomes


def _assert_ran_once(app, slot: str, ids: list[int], outcomes: list[str]) -> None:
    assert sorted(outcomes) == ["skipped", "succeeded"]
    with app.app_context():
        runs = db.session.scalars(select(JobRun).where(JobRun.name == JOB)).all()
        assert [(run.slot, run.status) for run in runs] == [(slot, "succeeded")]
        assert runs[0].counts == {"created": 3}
        keys = db.session.scalars(select(OutboxMessage.key)).all()
        assert sorted(int(key.split(":")[1]) for key in keys) == sorted(ids)
        db.session.remove()


def test_two_processes_running_the_same_slot_run_it_once(shared):
    app, url, ids = shared
    barrier = SPAWN.Barrier(2)  # referenced until the end: the processes share it
    processes, results = _start(workers.run_slot, url, JOB, "2026-11-24", barrier)
    _assert_ran_once(app, "2026-11-24", ids, _outcomes(processes, results))


def _away_from_midnight() -> None:
    """The daily slot is the Paris day: do not fire across midnight."""
    local = datetime.now(PARIS)
    seconds_left = 86400 - (local.hour * 3600 + local.minute * 60 + local.second)
    if seconds_left < 30:
        time.sleep(seconds_left + 1)


def test_two_schedulers_firing_at_the_same_instant_run_the_job_once(shared):
    app, url, ids = shared
    barrier, instants = SPAWN.Barrier(3), SPAWN.Queue()
    processes, results = _start(workers.run_scheduler, url, JOB, barrier, instants)
    barrier.wait(timeout=TIMEOUT)  # both applications are built
    _away_from_midnight()
    instant = utcnow() + timedelta(seconds=2)
    for _ in processes:
        instants.put(instant)
    outcomes = _outcomes(processes, results)
    _assert_ran_once(app, registry.slot_for(registry.get(JOB, app), instant), ids, outcomes)


MESSAGES = 120


@pytest.fixture
def outbox_database(tmp_path):
    """A migrated database of its own with pending messages to e-mail."""
    url = dbutil.fresh_database(tmp_path)
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        for number in range(MESSAGES):
            outbox.add(db.session, key=f"test:{number}", kind="test", subject="Sujet",
                       body="Corps", locale="fr",
                       recipient=f"person{number}@example.test")
        db.session.commit()
        db.session.remove()
    yield app, url
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_database(url)


def test_two_deliveries_at_once_send_each_message_once(outbox_database):
    app, url = outbox_database
    barrier, sent = SPAWN.Barrier(2), SPAWN.Queue()
    processes, results = _start(workers.run_delivery, url, barrier, sent)
    reports = []
    deadline = time.monotonic() + TIMEOUT
    while len(reports) < 2 and time.monotonic() < deadline:
        try:
            reports.append(results.get(timeout=1))
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                break
    recipients = []  # every e-mail of both processes (both have reported: all are sent)
    while True:
        try:
            recipients.append(sent.get(timeout=2))
        except queue.Empty:
            break
    for process in processes:
        process.join(timeout=TIMEOUT)
        assert process.exitcode == 0
    assert [(status, error) for _, status, _, error in reports] == [("succeeded", None)] * 2
    assert sum(counts["sent"] for _, _, counts, _ in reports) == MESSAGES
    assert sorted(recipients) == sorted(f"person{n}@example.test" for n in range(MESSAGES))
    with app.app_context():
        assert set(db.session.scalars(select(OutboxMessage.status))) == {"sent"}
        db.session.remove()
