"""The rules of one appointment, written once as functions of its values.

The booking service (pages, API, series, rounds) and the appointments import apply the same
functions: the service on the records it loads, the import on the values of a whole batch it
looked up with one query per reference. Each answers the message of the rule broken, or None.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement

from coordinator.core.bounds import date_problem
from coordinator.core.time import PARIS
from coordinator.core.workdays import non_working_reason
from coordinator.scheduling.models import (
    MAX_MINUTES,
    TRANSITIONS,
    Appointment,
    AppointmentStatus,
)

DEFAULT_MINUTES = 30
BOOKING_HORIZON_YEARS = 2  # an appointment is booked at most this far ahead
# The statuses that say what happened: recorded only once the appointment has started.
HAPPENED = (AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW)
# What an appointment that has its outcome keeps: history is not rewritten.
KEPT_AFTER_OUTCOME = ("patient_id", "provider_id", "starts_at")


def duration_problem(duration: Any) -> Any:
    """An appointment lasts from 1 minute to 12 hours."""
    if not isinstance(duration, int) or isinstance(duration, bool) or \
            not 1 <= duration <= MAX_MINUTES:
        return _l("An appointment lasts from 1 minute to 12 hours.")
    return None


def provider_problem(provider: Any) -> Any:
    """A provider of the directory, active."""
    if provider is None:
        return _l("Choose a provider of the directory.")
    if not provider.is_active:
        return _l("This provider is inactive in the directory.")
    return None


def after_death_problem(deceased_date: date | None, starts_at: datetime | None) -> Any:
    """No appointment after the day of the patient's death (Paris days)."""
    if deceased_date is not None and starts_at is not None and \
            starts_at.astimezone(PARIS).date() > deceased_date:
        return _l("The patient died on %(date)s: no appointment after that day.",
                  date=deceased_date.isoformat())
    return None


def horizon(now: datetime) -> date:
    """The last Paris day an appointment may start on when booked at `now`."""
    today = now.astimezone(PARIS).date()
    try:
        return today.replace(year=today.year + BOOKING_HORIZON_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + BOOKING_HORIZON_YEARS, day=28)


def starts_at_problem(starts_at: datetime | None, *, birth_date: date | None,
                      deceased_date: date | None, now: datetime) -> Any:
    """When an appointment may start, on every path (pages, API, series, import): on a day of
    1900-2100, not before the patient's birth nor after their death (Paris days), and at most
    two years ahead. Past appointments of any age are accepted: registries import history."""
    if starts_at is None:
        return None
    day = starts_at.astimezone(PARIS).date() if starts_at.tzinfo else starts_at.date()
    if date_problem(day):
        return date_problem(day)
    if birth_date is not None and day < birth_date:
        return _l("The patient was born on %(date)s: no appointment before that day.",
                  date=birth_date.isoformat())
    if after_death_problem(deceased_date, starts_at):
        return after_death_problem(deceased_date, starts_at)
    if day > horizon(now):
        return _l("Appointments are booked at most %(years)d years ahead (until %(date)s).",
                  years=BOOKING_HORIZON_YEARS, date=horizon(now).isoformat())
    return None


def in_the_past_problem(starts_at: datetime | None, now: datetime) -> Any:
    """A new booking (a page, the API, a series, a move, booking again) starts from now on:
    a visit that already happened is history, recorded by the appointments import, not booked.
    (`starts_at` is a UTC instant.)"""
    if starts_at is not None and starts_at < now:
        return _l("The start is in the past: a new appointment starts from now on (choose a "
                  "date and time to come).")
    return None


def non_working_day_problem(starts_at: datetime | None, subdivision: str | None,
                            confirmed: bool, language: str = "fr") -> Any:
    """A booking chosen by hand on a weekend or a French public holiday (those of the
    patient's department included) is kept only once the user confirmed it. (The series
    proposals never fall on such a day: `series.py` moves them to the next working day.)"""
    if starts_at is None or confirmed:
        return None
    day = starts_at.astimezone(PARIS).date()
    reason = non_working_reason(day, subdivision, language)
    if reason is None:
        return None
    if reason == "weekend":
        return _l("%(date)s falls on a weekend: choose a working day, or confirm this day "
                  "(“Book on a weekend or public holiday”).", date=day.isoformat())
    return _l("%(date)s is a public holiday (%(name)s): choose a working day, or confirm this "
              "day (“Book on a weekend or public holiday”).", date=day.isoformat(), name=reason)


def may_become(current: str, wanted: str) -> bool:
    """The checked lifecycle: an outcome is recorded once, from `scheduled` only."""
    return wanted in TRANSITIONS.get(current, ())


def too_early_problem(status: str | None, starts_at: datetime | None, now: datetime) -> Any:
    """Attended or missed only once it has started (it can be cancelled or moved before)."""
    if status in HAPPENED and starts_at is not None and starts_at > now:
        return _l("The appointment has not started yet: it can be cancelled or moved, not "
                  "attended or missed.")
    return None


def rewritten_history(current_status: str, current: dict, values: dict) -> str | None:
    """The first of patient, provider and time that an appointment with its outcome would
    change (None when nothing is rewritten)."""
    if current_status == AppointmentStatus.SCHEDULED:
        return None
    return next((name for name in KEPT_AFTER_OUTCOME
                 if values.get(name) is not None and values[name] != current[name]), None)


REWRITTEN_HISTORY = _l("The appointment already has its outcome: its patient, provider and time "
                       "cannot change.")


def outcome_missing(now: datetime) -> ColumnElement[bool]:
    """An appointment whose outcome is missing: still scheduled after its end (the case
    managers' worklist, and the hourly job that flags them)."""
    return (Appointment.status == AppointmentStatus.SCHEDULED) & (Appointment.ends_at < now)
