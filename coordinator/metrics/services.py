"""Registry metrics, as defined in ../shared/spec/metrics.md: one definition, computed in SQL.

So far: the no-show rate per patient or per provider (the councils' figures come with the
metrics issue)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from coordinator.core.time import as_utc
from coordinator.scheduling.models import Appointment, AppointmentStatus


@dataclass(frozen=True)
class NoShowRate:
    attended: int
    no_show: int

    @property
    def rate(self) -> float | None:
        """no_show / (attended + no_show); None without any outcome (a zero denominator)."""
        total = self.attended + self.no_show
        return self.no_show / total if total else None


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants of [start 00:00, end + 1 day 00:00) in Paris local days."""
    return (as_utc(datetime.combine(start, time())),
            as_utc(datetime.combine(end + timedelta(days=1), time())))


def no_show_rates(session: Session, by: str, start: date, end: date,
                  ids: Iterable[int] | None = None) -> dict[int, NoShowRate]:
    """Per patient (`by="patient"`) or per provider (`by="provider"`): appointments starting
    in the period with status attended or no_show; cancelled and still-scheduled ones are not
    in the denominator."""
    column = {"patient": Appointment.patient_id, "provider": Appointment.provider_id}[by]
    low, high = period_bounds(start, end)
    query = (select(column,
                    func.sum(case((Appointment.status == AppointmentStatus.ATTENDED, 1), else_=0)),
                    func.sum(case((Appointment.status == AppointmentStatus.NO_SHOW, 1), else_=0)))
             .where(Appointment.starts_at >= low, Appointment.starts_at < high,
                    Appointment.status.in_((AppointmentStatus.ATTENDED,
                                            AppointmentStatus.NO_SHOW)))
             .group_by(column))
    if ids is not None:
        query = query.where(column.in_(list(ids)))
    return {key: NoShowRate(int(attended), int(no_show))
            for key, attended, no_show in session.execute(query)}


def no_show_rate(session: Session, by: str, key: int, days: int = 365) -> NoShowRate:
    """The no-show rate of one patient or provider over the last `days` days (today included)."""
    from coordinator.core.time import local_today

    today = local_today()
    found = no_show_rates(session, by, today - timedelta(days=days - 1), today, [key])
    return found.get(key, NoShowRate(0, 0))
