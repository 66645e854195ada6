"""What a periodic job is (a name, a schedule, a plain function) and the registry of the jobs.

The jobs themselves are written by their domains (`<domain>/jobs.py`) and listed in one place, the
application's wiring (`web.register_jobs`), which registers them in the application when it is
built: the mechanism (registry, runner, scheduler, models) imports no domain."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordinator.core.time import PARIS

Trigger = Literal["hourly", "nightly", "daily", "monthly"]
Counts = dict[str, int]
# A task flushes and returns its counts; a task that must make part of its work durable before
# going on (the outbox: a message is claimed before its e-mail goes) is a generator that yields
# at those points, and the runner commits there. A task never commits.
TaskFunction = Callable[[Session, datetime], Counts | Generator[None, None, Counts]]


@dataclass(frozen=True)
class Schedule:
    """When a trigger fires: cron fields in Europe/Paris time, and how to say it."""

    cron: dict[str, int]
    label: str  # a lazy translated string


SCHEDULES: dict[str, Schedule] = {
    "hourly": Schedule(cron={"minute": 5}, label=_l("every hour at :05")),
    # the long counts of the night, out of the way of the morning's jobs
    "nightly": Schedule(cron={"hour": 2, "minute": 30}, label=_l("every night at 02:30")),
    "daily": Schedule(cron={"hour": 6, "minute": 30}, label=_l("every day at 06:30")),
    "monthly": Schedule(cron={"day": 1, "hour": 7, "minute": 0},
                        label=_l("on the 1st of every month at 07:00")),
}


@dataclass(frozen=True)
class Job:
    name: str
    description: str  # a lazy translated string
    trigger: Trigger
    function: TaskFunction

    @property
    def schedule(self) -> Schedule:
        return SCHEDULES[self.trigger]


EXTENSION = "coordinator.jobs"


def register(app: Flask, job: Job) -> None:
    """Add a job to the application's registry; registering it again changes nothing, another
    job under a taken name is refused."""
    registered: dict[str, Job] = app.extensions.setdefault(EXTENSION, {})
    existing = registered.setdefault(job.name, job)
    if existing.function is not job.function or existing.trigger != job.trigger:
        raise ValueError(f"two jobs are named {job.name!r}")


def jobs(app: Flask | None = None) -> list[Job]:
    """The jobs of `app` (default: the current application), in the order registered."""
    return list((app or current_app).extensions.get(EXTENSION, {}).values())


def get(name: str, app: Flask | None = None) -> Job | None:
    """The job called `name`, or None."""
    return (app or current_app).extensions.get(EXTENSION, {}).get(name)


def names(app: Flask | None = None) -> list[str]:
    return [job.name for job in jobs(app)]


def slot_for(job: Job, when: datetime) -> str:
    """The schedule slot `when` falls in: the UTC hour for an hourly job ("2026-11-24T13"),
    the Europe/Paris day for a nightly or daily one ("2026-11-24"), the Paris month for a
    monthly one ("2026-11"). One run per job and slot."""
    if job.trigger == "hourly":
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H")
    if job.trigger == "monthly":
        return when.astimezone(PARIS).strftime("%Y-%m")
    return when.astimezone(PARIS).date().isoformat()
