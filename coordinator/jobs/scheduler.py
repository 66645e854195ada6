"""APScheduler 3, configured here only: started in the processes where SCHEDULER_ENABLED is set
(`COORDINATOR_SCHEDULER=true`). Several processes or hosts may run one: each fire claims the
job's slot first (see `runner`), so every slot runs exactly once."""

from __future__ import annotations

import atexit
import logging

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from coordinator.core.time import PARIS, utcnow
from coordinator.jobs import registry, runner
from coordinator.jobs.models import JobRun

logger = logging.getLogger(__name__)
EXTENSION_KEY = "coordinator_scheduler"
# A fire delayed longer than this (a busy or suspended process) is dropped, not run late.
MISFIRE_GRACE_SECONDS = 15 * 60


def fire(app: Flask, name: str) -> JobRun | None:
    """What the scheduler calls: run the job for the slot of the current time (None when
    another process had that slot)."""
    job = registry.get(name, app)
    return runner.run(app, name, registry.slot_for(job, utcnow()))


def trigger_for(job: registry.Job) -> BaseTrigger:
    return CronTrigger(timezone=PARIS, **job.schedule.cron)


def build_scheduler(app: Flask, triggers: dict[str, BaseTrigger] | None = None
                    ) -> BackgroundScheduler:
    """A scheduler (not started) with one entry per registered job; `triggers` replaces the
    schedule of some jobs by name (tests) and then only those jobs are added."""
    # One job at a time per process: on SQLite, two jobs of one process would fight for the
    # database's single write lock.
    scheduler = BackgroundScheduler(timezone=PARIS,
                                    executors={"default": ThreadPoolExecutor(max_workers=1)})
    jobs = [job for job in registry.jobs(app) if triggers is None or job.name in triggers]
    for job in jobs:
        trigger = triggers[job.name] if triggers is not None else trigger_for(job)
        scheduler.add_job(fire, trigger, args=[app, job.name], id=job.name, name=job.name,
                          coalesce=True, max_instances=1,
                          misfire_grace_time=MISFIRE_GRACE_SECONDS)
    return scheduler


def _shutdown(scheduler: BackgroundScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=False)


def init_app(app: Flask) -> None:
    """Start the scheduler when the configuration asks for it (never in tests by default)."""
    if not app.config.get("SCHEDULER_ENABLED"):
        return
    scheduler = build_scheduler(app)
    scheduler.start()
    app.extensions[EXTENSION_KEY] = scheduler
    atexit.register(_shutdown, scheduler)
    logger.info("scheduler started: %s", ", ".join(registry.names(app)))
