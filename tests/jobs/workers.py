"""What the processes of the exactly-once test run: each builds its own application on the
shared database, as another gunicorn worker or another host would."""

from __future__ import annotations

import os
import threading
from datetime import datetime

from coordinator import create_app
from coordinator.extensions import db


def _app(url: str):
    return create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def run_slot(url: str, name: str, slot: str, barrier, results) -> None:
    """Wait for the other process, then run the job's slot through the runner."""
    from coordinator.jobs import runner

    app = _app(url)
    barrier.wait(timeout=120)
    job_run = runner.run(app, name, slot)
    results.put((os.getpid(), job_run.status if job_run else "skipped"))
    _dispose(app)


def run_scheduler(url: str, name: str, barrier, instants, results) -> None:
    """Start a scheduler whose only entry fires job `name` at the instant the test gives."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
    from apscheduler.triggers.date import DateTrigger

    from coordinator.jobs.scheduler import build_scheduler

    app = _app(url)
    barrier.wait(timeout=120)
    instant: datetime = instants.get(timeout=120)
    outcome: list[str] = []
    done = threading.Event()

    def listen(event) -> None:
        if event.code == EVENT_JOB_EXECUTED:
            outcome.append(event.retval.status if event.retval else "skipped")
        else:
            outcome.append(f"error {event.code}: {getattr(event, 'exception', None)}")
        done.set()

    scheduler = build_scheduler(app, {name: DateTrigger(run_date=instant)})
    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    scheduler.start()
    done.wait(timeout=120)
    scheduler.shutdown(wait=True)
    results.put((os.getpid(), outcome[0] if outcome else "timeout"))
    _dispose(app)
