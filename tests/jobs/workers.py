"""What the processes of the exactly-once test run: each builds its own application on the
shared database, as another gunicorn worker or another host would."""

from __future__ import annotations

import os
import threading
import time
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


class _RecordingSMTP:
    """Stands in for smtplib.SMTP in a worker process: each e-mail goes to the test's queue."""

    sent = None  # the queue, set by `run_delivery`

    def __init__(self, host, port, timeout=None):
        pass

    def starttls(self):
        pass

    def send_message(self, message):
        _RecordingSMTP.sent.put(message["To"])
        time.sleep(0.002)  # an SMTP round trip: lets the other delivery interleave

    def quit(self):
        pass


def run_delivery(url: str, barrier, sent, results) -> None:
    """Wait for the other process, then deliver the outbox by hand through a recording SMTP."""
    import smtplib

    from coordinator.jobs import runner

    _RecordingSMTP.sent = sent
    smtplib.SMTP = _RecordingSMTP
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url,
                      "SMTP_HOST": "smtp.example.test", "SMTP_STARTTLS": False})
    barrier.wait(timeout=120)
    job_run = runner.run_manually(app, "deliver_outbox")
    results.put((os.getpid(), job_run.status if job_run else "skipped",
                 job_run.counts if job_run else None, job_run.error if job_run else None))
    _dispose(app)
