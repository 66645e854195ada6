"""The case manager's follow-up worklists: appointments without an outcome, no-shows to chase
(with the patient's count of consecutive no-shows as of each), a day's list to record outcomes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import contains_eager

from coordinator.auth.models import User
from coordinator.core.time import PARIS, as_utc
from coordinator.patients.models import Patient
from coordinator.permissions import caseload_scope
from coordinator.scheduling import rules
from coordinator.scheduling.models import Appointment, AppointmentStatus

OUTREACH_DAYS = 90
FLAG_FROM = 2  # consecutive no-shows that flag a patient


def _caseload(user: User) -> Select:
    return (select(Appointment).join(Patient, Patient.id == Appointment.patient_id)
            .options(contains_eager(Appointment.patient))
            .where(caseload_scope(user)))


def outcome_missing(user: User, now: datetime) -> Select:
    """Appointments of the caseload that ended without an outcome, oldest first."""
    return (_caseload(user)
            .where(rules.outcome_missing(now))
            .order_by(Appointment.starts_at))


def no_shows(user: User, today: date) -> Select:
    """(appointment, the patient's consecutive no-shows as of it) for the caseload's no-shows
    of the last 90 days; those still to chase first, the longest runs first, then the most
    recent."""
    since = as_utc(datetime.combine(today - timedelta(days=OUTREACH_DAYS), time()))
    streak = func.coalesce(Appointment.consecutive_no_shows, 1)  # counted with the outcome
    return (_caseload(user)
            .add_columns(streak.label("streak"))
            .options(contains_eager(Appointment.provider))
            .join(Appointment.provider)
            .where(Appointment.status == AppointmentStatus.NO_SHOW, Appointment.starts_at >= since)
            .order_by(Appointment.outreach_at.is_not(None), streak.desc(),
                      Appointment.starts_at.desc()))


def day_list(user: User, day: date) -> Select:
    """The caseload's appointments of one Paris day, to record their outcomes."""
    start = as_utc(datetime.combine(day, time()))
    end = as_utc(datetime.combine(day + timedelta(days=1), time()))
    return (_caseload(user)
            .join(Appointment.provider).options(contains_eager(Appointment.provider))
            .where(and_(Appointment.starts_at >= start, Appointment.starts_at < end))
            .order_by(Appointment.starts_at))


def local(moment: datetime) -> datetime:
    return moment.astimezone(PARIS)
