"""The case manager's follow-up worklists: appointments without an outcome, no-shows to chase
(with the count of consecutive no-shows), a day's list to record outcomes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, Subquery, and_, case, func, select
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


def consecutive_no_shows() -> Subquery:
    """A subquery: per patient, the no-shows since their last attended appointment."""
    attended_since = func.sum(
        case((Appointment.status == AppointmentStatus.ATTENDED, 1), else_=0)).over(
        partition_by=Appointment.patient_id,
        order_by=(Appointment.starts_at.desc(), Appointment.id.desc()))
    outcomes = (select(Appointment.patient_id, Appointment.status,
                       attended_since.label("attended_since"))
                .where(Appointment.status.in_((AppointmentStatus.ATTENDED,
                                               AppointmentStatus.NO_SHOW)))
                .subquery())
    return (select(outcomes.c.patient_id, func.count().label("streak"))
            .where(outcomes.c.status == AppointmentStatus.NO_SHOW, outcomes.c.attended_since == 0)
            .group_by(outcomes.c.patient_id)
            .subquery())


def no_shows(user: User, today: date) -> Select:
    """(appointment, consecutive no-shows of its patient) for the caseload's no-shows of the
    last 90 days; those still to chase first, then the most recent."""
    streaks = consecutive_no_shows()
    since = as_utc(datetime.combine(today - timedelta(days=OUTREACH_DAYS), time()))
    streak = func.coalesce(streaks.c.streak, 0)
    return (_caseload(user)
            .add_columns(streak.label("streak"))
            .outerjoin(streaks, streaks.c.patient_id == Appointment.patient_id)
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
