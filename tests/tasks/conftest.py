"""Stays, tasks and contacts for the protocol's tests: stays are rows made here (their services
are the stays' own), then announced to the protocol as the stays' service announces them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from coordinator.core.time import as_utc, local_today, utcnow
from coordinator.extensions import db
from coordinator.stays.models import Stay
from coordinator.tasks import protocol
from coordinator.tasks.models import Task, TaskKind
from tests import factories


def paris(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return as_utc(datetime.combine(day, time(hour, minute)))


def make_stay(patient, *, admitted: datetime, discharged: datetime | None = None,
              destination: str | None = "home", lace: int | None = None,
              mode: str = "emergency", facility: str = "CH de Douai", **extra) -> Stay:
    stay = Stay(patient_id=patient.id, facility_name=facility, admitted_at=admitted,
                admission_mode=mode, discharged_at=discharged,
                discharge_destination=destination if discharged else None,
                lace_score=lace if discharged else None, created_by="test", **extra)
    db.session.add(stay)
    db.session.flush()
    return stay


def announce(stay: Stay, change: str, today: date | None = None) -> None:
    """What `stays.services` does after each change: every provider of `stays.changed`."""
    protocol.on_stay_changed(db.session, stay, change, today=today)
    db.session.commit()


def discharge(patient, day: date, *, lace: int | None = None, destination: str = "home",
              days_in: int = 4, hour: int = 15, today: date | None = None, **extra) -> Stay:
    """A stay of `days_in` days discharged on `day`, announced (today: the discharge day)."""
    stay = make_stay(patient, admitted=paris(day - timedelta(days=days_in), 9),
                     discharged=paris(day, hour), destination=destination, lace=lace, **extra)
    announce(stay, "discharged", today or day)
    return stay


def tasks_of(stay: Stay) -> dict[TaskKind, Task]:
    db.session.expire_all()
    return {task.kind: task for task in db.session.scalars(
        select(Task).where(Task.stay_id == stay.id))}


def recent(days_ago: int = 1, hour: int = 15) -> datetime:
    """An instant `days_ago` Paris days before today, at `hour` (never in the future)."""
    moment = paris(local_today() - timedelta(days=days_ago), hour)
    return min(moment, utcnow() - timedelta(minutes=1))


@pytest.fixture
def patient(case_manager):
    return factories.make_patient(case_manager_id=case_manager.id, postal_code="59500")


@pytest.fixture
def actor(case_manager):
    return factories.case_plan_actor(case_manager)
