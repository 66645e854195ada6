"""Every periodic job, declared once with its schedule: the scheduler, the command line and the
administrators' page all read this list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordinator.core.time import PARIS
from coordinator.jobs import tasks

Trigger = Literal["hourly", "daily"]
TaskFunction = Callable[[Session, datetime], dict[str, int]]


@dataclass(frozen=True)
class Schedule:
    """When a trigger fires: cron fields in Europe/Paris time, and how to say it."""

    cron: dict[str, int]
    label: str  # a lazy translated string


SCHEDULES: dict[str, Schedule] = {
    "hourly": Schedule(cron={"minute": 5}, label=_l("every hour at :05")),
    "daily": Schedule(cron={"hour": 6, "minute": 30}, label=_l("every day at 06:30")),
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


JOBS: list[Job] = [
    Job("mark_outcome_missing",
        _l("Mark the appointments that ended without an outcome (case managers' worklist)."),
        "hourly", tasks.mark_outcome_missing),
    Job("appointment_reminders",
        _l("Reminders of the appointments of the next 48 hours, into the outbox (e-mailed "
           "when SMTP is configured)."),
        "daily", tasks.appointment_reminders),
    Job("review_overdue_plans",
        _l("Tell each case manager which active care plans of their caseload are past their "
           "review date."),
        "daily", tasks.review_overdue_plans),
    Job("purge_printed_documents",
        _l("Delete cached plan PDFs unused for 30 days and batch PDFs older than 24 hours; "
           "fail batches interrupted by a restart."),
        "daily", tasks.purge_printed_documents),
]


def get(name: str) -> Job | None:
    """The job called `name`, or None."""
    return next((job for job in JOBS if job.name == name), None)


def names() -> list[str]:
    return [job.name for job in JOBS]


def slot_for(job: Job, when: datetime) -> str:
    """The schedule slot `when` falls in: the UTC hour for an hourly job ("2026-11-24T13"),
    the Europe/Paris day for a daily one ("2026-11-24"). One run per job and slot."""
    if job.trigger == "hourly":
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H")
    return when.astimezone(PARIS).date().isoformat()
