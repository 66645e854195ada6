"""Running a job: at most one run per job and schedule slot, whatever the number of processes or
hosts. The lease is the `job_run` row itself: a process first inserts (name, slot) and commits;
the unique constraint refuses a second insert, so every other process skips the slot (unless
that run failed or was interrupted: then one of them runs it again). A run by hand has a slot
of its own and always runs. The runner owns the transactions: a task only flushes."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import and_, func, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.jobs import registry
from coordinator.jobs.models import JobRun, JobStatus, JobTrigger

logger = logging.getLogger(__name__)


class UnknownJob(LookupError):
    """No job has this name."""


def host_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def manual_slot() -> str:
    """A run by hand gets its own slot (never taken by a schedule)."""
    return f"manual-{utcnow().isoformat(timespec='microseconds')}"


@contextmanager
def _app_context(app: Flask) -> Iterator[None]:
    """The current context when it is this application's (command, page, test), else a new one
    with its own session (the scheduler's thread)."""
    if has_app_context() and current_app._get_current_object() is app:
        yield
        return
    with app.app_context():
        yield


def _claim(session: Session, name: str, slot: str, trigger: str) -> JobRun | None:
    """Insert and commit the run's row; None when another process has (or had) this slot."""
    job_run = JobRun(name=name, slot=slot, trigger=trigger, status=JobStatus.RUNNING,
                     host=host_label(), started_at=utcnow())
    session.add(job_run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return _take_over(session, name, slot)
    return job_run


STALE_AFTER = timedelta(hours=2)


def _take_over(session: Session, name: str, slot: str) -> JobRun | None:
    """A slot whose run failed, or whose process died while running it (still "running" two
    hours on), is run again by the first process that asks; a conditional update lets only
    one of them take it."""
    now = utcnow()
    taken = session.execute(
        update(JobRun).where(JobRun.name == name, JobRun.slot == slot,
                             or_(JobRun.status == JobStatus.FAILED,
                                 and_(JobRun.status == JobStatus.RUNNING,
                                      JobRun.started_at < now - STALE_AFTER)))
        .values(status=JobStatus.RUNNING, host=host_label(), started_at=now, error=None,
                finished_at=None)).rowcount
    session.commit()
    if taken != 1:
        return None
    logger.info("job %s: slot %s taken over (failed or interrupted before)", name, slot)
    return session.scalar(select(JobRun).where(JobRun.name == name, JobRun.slot == slot))


def _finish(session: Session, job_run: JobRun, started: float, status: JobStatus, *,
            counts: dict | None = None, error: str | None = None) -> None:
    # One UPDATE that reads nothing first (the row is expired by the task's commits): on SQLite
    # a transaction that reads and then writes fails at once if another process wrote meanwhile.
    session.execute(
        update(JobRun).where(JobRun.id == inspect(job_run).identity[0])
        .values(status=status, counts=counts, error=error, finished_at=utcnow(),
                duration_ms=round((time.monotonic() - started) * 1000)))
    session.commit()
    session.refresh(job_run)


def _steps(session: Session, steps: Generator[None, None, dict[str, int]]) -> dict[str, int]:
    """Run a task written as steps: a commit at each of its `yield`s (what it did up to there
    stays done if it fails later); what it returns is its counts."""
    try:
        while True:
            try:
                next(steps)
            except StopIteration as stop:
                return stop.value
            session.commit()
    finally:
        steps.close()


def _execute(session: Session, job: registry.Job, job_run: JobRun, now: datetime) -> JobRun:
    """Run the task in one transaction (or, for a task written as steps, one per step): its
    work committed with its counts, or rolled back and the run marked failed with the error.
    Tasks never commit: the runner does."""
    started = time.monotonic()
    try:
        result = job.function(session, now)
        counts = _steps(session, result) if isinstance(result, Generator) else result
        session.commit()
    except Exception as error:
        session.rollback()
        _finish(session, job_run, started, JobStatus.FAILED,
                error=f"{type(error).__name__}: {error}")
        logger.exception("job %s slot %s failed after %d ms", job.name, job_run.slot,
                         job_run.duration_ms)
        return job_run
    _finish(session, job_run, started, JobStatus.SUCCEEDED, counts=counts)
    logger.info("job %s slot %s succeeded in %d ms: %s", job.name, job_run.slot,
                job_run.duration_ms, counts)
    return job_run


def run(app: Flask, name: str, slot: str, *, trigger: str = JobTrigger.SCHEDULE,
        now: datetime | None = None) -> JobRun | None:
    """Run job `name` for `slot` unless a run of that slot exists already (then log "skipped"
    and return None). `now` is the instant the task works from (default: the current time)."""
    job = registry.get(name, app)
    if job is None:
        raise UnknownJob(name)
    with _app_context(app):
        session = db.session
        job_run = _claim(session, name, slot, trigger)
        if job_run is None:
            logger.info("job %s slot %s skipped: already run by another process", name, slot)
            return None
        return _execute(session, job, job_run, now or utcnow())


def run_manually(app: Flask, name: str, now: datetime | None = None) -> JobRun | None:
    """Run job `name` now, by hand (command line, administrators' page): it always runs."""
    return run(app, name, manual_slot(), trigger=JobTrigger.MANUAL, now=now)


def format_counts(counts: dict | None) -> str:
    """A run's counts as text: "created 3, sent 0"."""
    return ", ".join(f"{key} {value}" for key, value in (counts or {}).items()) or "-"


def recent_runs(session: Session, limit: int = 50) -> list[JobRun]:
    """The newest runs of every job."""
    return list(session.scalars(
        select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)))


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest run of each job, by job name."""
    latest = select(func.max(JobRun.id)).group_by(JobRun.name)
    return {job_run.name: job_run
            for job_run in session.scalars(select(JobRun).where(JobRun.id.in_(latest)))}
