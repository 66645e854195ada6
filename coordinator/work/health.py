"""The workers' part of /healthz (`core/health.py`): whether queued work has a worker to run it.

Every worker records a heartbeat every `WORK_HEARTBEAT_SECONDS` while it runs, idle or busy
(`worker.Worker._heartbeats`, stored by the `beacon`), and forgets it when it stops cleanly. The
rule, with N = `WORK_STALE_SECONDS` (60 s, after which a running item's worker is taken for
dead too):

- "ok": a worker beat within N seconds, or worker threads run in this very process (`make run`,
  SQLite: they start with the process's first request, /healthz included);
- "idle": no worker beat within N seconds, and no item is queued or running: nothing waits,
  so nothing is wrong (a `make run` that served nothing yet, an installation without imports);
- "stale": an item is queued or running and no worker beat within N seconds (or ever): the work
  waits for a worker that is not there. /healthz answers 503.

The check reads one row (or, on SQLite, a few small files) and, only when no worker is alive,
whether any item waits (the `status, id` index). When the database cannot be read, the workers
cannot be judged: "unknown" (the database's own part says what fails).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import exc, select

from coordinator.core import health
from coordinator.core.database import rollback
from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.work import queue, worker
from coordinator.work.models import WorkItem, WorkStatus

IDLE = health.IDLE
STALE = "stale"
WAITING = (WorkStatus.QUEUED.value, WorkStatus.RUNNING.value)


def status(app: Flask) -> str:
    """"ok", "idle", "stale" or "unknown" (see above)."""
    if worker.running_here(app):
        return health.OK
    stale_after = timedelta(seconds=float(app.config.get("WORK_STALE_SECONDS", 60)))
    session = db.session
    try:
        last = queue.beacon(app).last_worker_beat(session)
        if last is not None and utcnow() - last <= stale_after:
            return health.OK
        waiting = session.scalar(select(WorkItem.id).where(WorkItem.status.in_(WAITING))
                                 .limit(1))
    except exc.SQLAlchemyError:
        return health.UNKNOWN
    finally:
        rollback(session)  # read only: nothing to keep
    return STALE if waiting is not None else IDLE


def register(app: Flask) -> None:
    """Report the workers in /healthz (replaces the "unknown" default)."""
    health.register(app, "workers", lambda: status(app))
