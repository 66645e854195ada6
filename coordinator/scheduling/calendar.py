"""Calendar queries and grids: the appointments of a provider, a patient or a case manager's
caseload between two instants, laid out in Europe/Paris days (weeks start on Monday)."""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, joinedload

from coordinator.auth.models import User
from coordinator.core.time import PARIS
from coordinator.permissions import caseload_scope
from coordinator.scheduling.models import Appointment

VIEWS = ("week", "month")
MAX_PER_DAY = 6  # a month cell lists this many, then "+N more" (the week view shows all)


@dataclass(frozen=True)
class Period:
    """The days a view shows: a Monday-to-Sunday week, or the whole weeks covering a month."""

    view: str
    anchor: date
    first: date
    last: date

    @property
    def starts_at(self) -> datetime:
        return paris_midnight(self.first)

    @property
    def ends_at(self) -> datetime:
        return paris_midnight(self.last + timedelta(days=1))

    @property
    def previous(self) -> date:
        if self.view == "week":
            return self.anchor - timedelta(days=7)
        return (self.anchor.replace(day=1) - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        if self.view == "week":
            return self.anchor + timedelta(days=7)
        return self.anchor.replace(day=monthrange(self.anchor.year, self.anchor.month)[1]) + \
            timedelta(days=1)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class Listing:
    """The appointments loaded for a view, and how many start on each Paris day (a month view
    loads the first MAX_PER_DAY of each day only)."""

    appointments: list[Appointment]
    totals: dict[date, int]


@dataclass(frozen=True)
class Day:
    """One Paris day of a grid, with its (first) appointments in order of start."""

    date: date
    appointments: list[Appointment]
    total: int
    in_period: bool = True  # False for the days of the neighbouring months in a month grid

    @property
    def more(self) -> int:
        """How many a month cell leaves out."""
        return self.total - len(self.appointments)


def paris_midnight(day: date) -> datetime:
    """The UTC instant a Paris day starts (23 or 25 hours long on the days the clocks change)."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def local_time(moment: datetime) -> str:
    """The Paris wall-clock time, 24-hour (as both French and English staff read schedules)."""
    return moment.astimezone(PARIS).strftime("%H:%M")


def period(view: str, anchor: date) -> Period:
    """The week (Monday to Sunday) holding `anchor`, or the whole weeks covering its month."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return Period(view, anchor, first, first + timedelta(days=6))
    month_first = anchor.replace(day=1)
    month_last = anchor.replace(day=monthrange(anchor.year, anchor.month)[1])
    first = month_first - timedelta(days=month_first.weekday())
    last = month_last + timedelta(days=6 - month_last.weekday())
    return Period(view, anchor, first, last)


# -- Queries ---------------------------------------------------------------------------------

def _in_range(starts_at: datetime, ends_at: datetime) -> tuple:
    return Appointment.starts_at >= starts_at, Appointment.starts_at < ends_at


def _load(session: Session, conditions: tuple, caseload: bool) -> list[Appointment]:
    """The appointments matching `conditions`, each with its patient and provider loaded by
    the same query."""
    query = select(Appointment).where(*conditions).options(joinedload(Appointment.provider)) \
        .order_by(Appointment.starts_at, Appointment.id)
    query = query.join(Appointment.patient).options(contains_eager(Appointment.patient)) \
        if caseload else query.options(joinedload(Appointment.patient))
    return list(session.scalars(query))


def _first_per_day(session: Session, conditions: tuple, caseload: bool,
                   per_day: int) -> Listing:
    """Count every appointment per Paris day on (id, start) rows, then load the first
    `per_day` of each day only: a busy month costs a few hundred objects, not thousands."""
    query = select(Appointment.id, Appointment.starts_at).where(*conditions) \
        .order_by(Appointment.starts_at, Appointment.id)
    if caseload:
        query = query.join(Appointment.patient)
    days: dict[date, list[int]] = defaultdict(list)
    for appointment_id, starts_at in session.execute(query):
        days[local_day(starts_at)].append(appointment_id)
    kept = [i for ids in days.values() for i in ids[:per_day]]
    appointments = _load(session, (Appointment.id.in_(kept),), False) if kept else []
    return Listing(appointments, {day: len(ids) for day, ids in days.items()})


def _listing(session: Session, conditions: tuple, caseload: bool,
             per_day: int | None) -> Listing:
    if per_day is not None:
        return _first_per_day(session, conditions, caseload, per_day)
    appointments = _load(session, conditions, caseload)
    totals: dict[date, int] = defaultdict(int)
    for appointment in appointments:
        totals[local_day(appointment.starts_at)] += 1
    return Listing(appointments, dict(totals))


def provider_appointments(session: Session, provider_id: int, starts_at: datetime,
                          ends_at: datetime, per_day: int | None = None) -> Listing:
    """Every appointment of the provider starting in the interval, whichever the patient
    (with `per_day`, the first ones of each Paris day and the count of all)."""
    conditions = (Appointment.provider_id == provider_id, *_in_range(starts_at, ends_at))
    return _listing(session, conditions, False, per_day)


def patient_appointments(session: Session, patient_id: int, starts_at: datetime,
                         ends_at: datetime, per_day: int | None = None) -> Listing:
    """Every appointment of the patient starting in the interval."""
    conditions = (Appointment.patient_id == patient_id, *_in_range(starts_at, ends_at))
    return _listing(session, conditions, False, per_day)


def caseload_appointments(session: Session, user: User, starts_at: datetime, ends_at: datetime,
                          per_day: int | None = None) -> Listing:
    """The appointments of the patients of `user`'s caseload (`permissions.caseload_scope`:
    their case manager, or the coordinator of one of their active plans)."""
    conditions = (caseload_scope(user),
                  *_in_range(starts_at, ends_at))
    return _listing(session, conditions, True, per_day)


# -- Grids -----------------------------------------------------------------------------------

def _by_day(appointments: list[Appointment]) -> dict[date, list[Appointment]]:
    days: dict[date, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        days[local_day(appointment.starts_at)].append(appointment)
    return days


def week_grid(shown: Period, listing: Listing) -> list[Day]:
    """Seven days, Monday first, each with the appointments starting that Paris day."""
    days = _by_day(listing.appointments)
    return [Day(day, days.get(day, []), listing.totals.get(day, 0)) for day in shown.days()]


def month_grid(shown: Period, listing: Listing) -> list[list[Day]]:
    """The month as rows of seven days (Monday first); days of the neighbouring months are
    marked out of the period but still list their appointments."""
    days = _by_day(listing.appointments)
    cells = [Day(day, days.get(day, []), listing.totals.get(day, 0),
                 day.month == shown.anchor.month) for day in shown.days()]
    return [cells[row:row + 7] for row in range(0, len(cells), 7)]
