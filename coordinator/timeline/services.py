"""A patient's timeline: what happened to them (and what is to come), newest first, grouped by
month — hospital stays with their readmission marks and LACE, appointments with their outcomes,
stratum changes, care plan revisions, contacts and tasks.

A composition above the domains (the layer of `home/` and `imports/`): it reads each domain
through what that domain offers — `stays.services.stays_of` and the stays' own readmission
marks, `patients.assignments.timelines` — and, where the domain has no per-patient list of a
period, one query of its own over that domain's models (appointments, plan revisions, contacts,
tasks). One or two statements per kind shown, whatever the number of rows: a kind the reader
filtered out is not read at all.

Each entry has a Paris day (what the page shows and filters on):

- a stay, the day of its admission; it is in a period it overlaps (an open stay lasts until
  today), so that a stay under way is never hidden by the period's start;
- an appointment, the Paris day it starts; a contact, the day it occurred; a plan revision, the
  day it was saved;
- a stratum change, its effective date (an exit from a program too);
- a task, its due date (an open task due later stands at the top, with what is to come).

Reading the timeline is a read of the patient's data: audited (`read_timeline`), with the
kinds and period shown and the number of entries.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, load_only

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.careplans.models import CarePlan, CarePlanRevision
from coordinator.core.context import Actor
from coordinator.core.time import PARIS, as_utc, local_today
from coordinator.patients import assignments
from coordinator.patients.models import Patient
from coordinator.scheduling.models import Appointment
from coordinator.stays import services as stay_services
from coordinator.stays import views as stay_views
from coordinator.stays.models import Stay
from coordinator.tasks.models import Contact, Task, TaskStatus

# Rows read per kind at most: a patient's whole history fits (a year of follow-ups is about a
# hundred appointments); past this the page says so and asks for a shorter period.
MAX_PER_KIND = 1000
DEFAULT_DAYS = 365  # the period shown when the reader has not chosen one: the last 12 months


class TimelineKind(StrEnum):
    STAY = "stay"
    APPOINTMENT = "appointment"
    STRATUM = "stratum"
    PLAN = "plan"
    CONTACT = "contact"
    TASK = "task"


KINDS = tuple(TimelineKind)
# Within one day, the order entries are shown in (newest first otherwise).
_ORDER = {kind: position for position, kind in enumerate(reversed(KINDS))}


@dataclass(frozen=True)
class Period:
    """Paris days, both included; None is no bound."""

    start: date | None = None
    end: date | None = None

    @classmethod
    def default(cls, today: date | None = None) -> Period:
        return cls((today or local_today()) - timedelta(days=DEFAULT_DAYS), None)

    def holds(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def overlaps(self, first: date, last: date) -> bool:
        return (self.start is None or last >= self.start) and \
            (self.end is None or first <= self.end)

    def instants(self) -> tuple[datetime | None, datetime | None]:
        """The period as UTC instants: [start of its first day, start of the day after its
        last)."""
        return (_day_start(self.start) if self.start else None,
                _day_start(self.end + timedelta(days=1)) if self.end else None)

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None}


@dataclass(frozen=True)
class Entry:
    kind: TimelineKind
    day: date               # the Paris day it is dated
    at: datetime | None     # the instant, when it has one (order within the day)
    record: Any
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.day, self.at or _day_start(self.day), _ORDER[self.kind],
                getattr(self.record, "id", 0))


@dataclass
class Month:
    first_day: date
    entries: list[Entry] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return self.first_day.strftime("month-%Y-%m")


@dataclass
class Timeline:
    patient: Patient
    kinds: tuple[TimelineKind, ...]
    period: Period
    months: list[Month]
    counts: dict[TimelineKind, int]
    truncated: list[TimelineKind]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _day_start(day: date) -> datetime:
    return as_utc(datetime.combine(day, time()))


def paris_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).date()


def _bounded(query: Select, column: Any, period: Period) -> Select:
    start, end = period.instants()
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    return query


def _capped(session: Session, query: Select) -> tuple[list, bool]:
    rows = list(session.scalars(query.limit(MAX_PER_KIND + 1)))
    return rows[:MAX_PER_KIND], len(rows) > MAX_PER_KIND


# -- One reader per kind: (session, patient, period, today) -> (entries, truncated) -------------

def _stays(session: Session, patient: Patient, period: Period,
           today: date) -> tuple[list[Entry], bool]:
    """The patient's stays (two queries: the stays' own list with their diagnoses), cancelled
    admissions included (struck out), with the marks the stays' pages show: the stay it
    readmits, the stay that readmitted it, LACE with its components."""
    stays = stay_services.stays_of(session, patient.id)
    marks = stay_views.readmission_marks(stays)
    entries = [Entry(TimelineKind.STAY, stay.admitted_on, stay.admitted_at, stay,
                     {"mark": marks[stay.id]})
               for stay in stays if period.overlaps(stay.admitted_on, _last_day(stay, today))]
    return entries[:MAX_PER_KIND], len(entries) > MAX_PER_KIND


def _last_day(stay: Stay, today: date) -> date:
    """The last day a stay covers: its discharge; an open one lasts until today; a cancelled
    admission without a discharge, its admission day."""
    if stay.discharged_on is not None:
        return stay.discharged_on
    return stay.admitted_on if stay.cancelled_at is not None else max(today, stay.admitted_on)


def _appointments(session: Session, patient: Patient, period: Period,
                  today: date) -> tuple[list[Entry], bool]:
    query = (select(Appointment).options(joinedload(Appointment.provider))
             .where(Appointment.patient_id == patient.id)
             .order_by(Appointment.starts_at.desc(), Appointment.id.desc()))
    rows, truncated = _capped(session, _bounded(query, Appointment.starts_at, period))
    return [Entry(TimelineKind.APPOINTMENT, paris_day(row.starts_at), row.starts_at, row)
            for row in rows], truncated


def _strata(session: Session, patient: Patient, period: Period,
            today: date) -> tuple[list[Entry], bool]:
    """Each row of the patient's stratum timelines (the registry's own, one query), with the
    stratum it replaced in its program (None at the inclusion)."""
    entries = []
    for program_timeline in assignments.timelines(session, patient):
        previous = None
        for row in program_timeline.rows:
            if period.holds(row.effective_date):
                entries.append(Entry(TimelineKind.STRATUM, row.effective_date, None, row,
                                     {"previous": previous}))
            previous = row
    return entries[:MAX_PER_KIND], len(entries) > MAX_PER_KIND


def _plan_revisions(session: Session, patient: Patient, period: Period,
                    today: date) -> tuple[list[Entry], bool]:
    """Every saved revision of the patient's plans, without the snapshots (the whole plan each:
    the history page reads them, not the timeline)."""
    query = (select(CarePlanRevision, CarePlan.plan_number)
             .join(CarePlan, CarePlan.id == CarePlanRevision.plan_id)
             .options(load_only(CarePlanRevision.id, CarePlanRevision.plan_id,
                                CarePlanRevision.number, CarePlanRevision.event,
                                CarePlanRevision.created_at, CarePlanRevision.author_label,
                                CarePlanRevision.changed, CarePlanRevision.changed_codes))
             .where(CarePlan.patient_id == patient.id)
             .order_by(CarePlanRevision.created_at.desc(), CarePlanRevision.id.desc()))
    query = _bounded(query, CarePlanRevision.created_at, period)
    rows = session.execute(query.limit(MAX_PER_KIND + 1)).all()
    return [Entry(TimelineKind.PLAN, paris_day(revision.created_at), revision.created_at,
                  revision, {"plan_number": number})
            for revision, number in rows[:MAX_PER_KIND]], len(rows) > MAX_PER_KIND


def _contacts(session: Session, patient: Patient, period: Period,
              today: date) -> tuple[list[Entry], bool]:
    query = (select(Contact).options(joinedload(Contact.user))
             .where(Contact.patient_id == patient.id)
             .order_by(Contact.occurred_at.desc(), Contact.id.desc()))
    rows, truncated = _capped(session, _bounded(query, Contact.occurred_at, period))
    return [Entry(TimelineKind.CONTACT, paris_day(row.occurred_at), row.occurred_at, row)
            for row in rows], truncated


def _tasks(session: Session, patient: Patient, period: Period,
           today: date) -> tuple[list[Entry], bool]:
    query = (select(Task).options(joinedload(Task.assignee), joinedload(Task.contact),
                                  joinedload(Task.appointment))
             .where(Task.patient_id == patient.id)
             .order_by(Task.due_on.desc(), Task.id.desc()))
    if period.start is not None:
        query = query.where(Task.due_on >= period.start)
    if period.end is not None:
        query = query.where(Task.due_on <= period.end)
    rows, truncated = _capped(session, query)
    return [Entry(TimelineKind.TASK, row.due_on, None, row,
                  {"overdue": row.status == TaskStatus.OPEN and row.due_on < today})
            for row in rows], truncated


READERS: dict[TimelineKind, Callable[[Session, Patient, Period, date],
                                     tuple[list[Entry], bool]]] = {
    TimelineKind.STAY: _stays,
    TimelineKind.APPOINTMENT: _appointments,
    TimelineKind.STRATUM: _strata,
    TimelineKind.PLAN: _plan_revisions,
    TimelineKind.CONTACT: _contacts,
    TimelineKind.TASK: _tasks,
}


def timeline(session: Session, patient: Patient, *,
             kinds: Collection[TimelineKind] | None = None, period: Period | None = None,
             today: date | None = None) -> Timeline:
    """The patient's timeline: the entries of `kinds` (all when None or empty) in `period`
    (the last 12 months and what is to come when None), newest first, grouped by month."""
    today = today or local_today()
    period = period if period is not None else Period.default(today)
    chosen = tuple(kind for kind in KINDS if not kinds or kind in kinds)
    entries: list[Entry] = []
    counts: dict[TimelineKind, int] = {}
    truncated = []
    for kind in chosen:
        found, cut = READERS[kind](session, patient, period, today)
        entries.extend(found)
        counts[kind] = len(found)
        if cut:
            truncated.append(kind)
    return Timeline(patient, chosen, period, by_month(entries), counts, truncated)


def by_month(entries: Iterable[Entry]) -> list[Month]:
    """The entries newest first, in months newest first."""
    months: dict[date, Month] = {}
    for entry in sorted(entries, key=lambda e: e.key, reverse=True):
        first = entry.day.replace(day=1)
        months.setdefault(first, Month(first)).entries.append(entry)
    return list(months.values())


def read_timeline(session: Session, actor: Actor, patient: Patient,
                  shown: Timeline | None) -> None:
    """Showing a patient's timeline is a read of their data: audited, with what was shown."""
    details = {"kinds": [str(kind) for kind in shown.kinds], **shown.period.as_dict()} \
        if shown is not None else None
    audit.record(session, actor, AuditAction.READ, "patient_timeline", patient.id,
                 patient_id=patient.id,
                 summary=f"{shown.total if shown is not None else 0} entr(ies)",
                 details=details)
