"""Builders of a patient's history for the timeline's tests: stays through the stays' service
(their readmission flags, LACE and the protocol's tasks as in production), the other rows as
their domains store them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from coordinator.core.context import Actor
from coordinator.core.time import as_utc, local_today
from coordinator.extensions import db
from coordinator.patients import assignments
from coordinator.scheduling.models import Appointment, AppointmentStatus
from coordinator.stays import services as stay_services
from coordinator.stays.models import StaySource
from coordinator.tasks.models import Contact, Task, TaskKind, TaskStatus
from tests import factories

ACTOR = Actor.system("test")
TODAY = local_today()


def paris(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return as_utc(datetime.combine(day, time(hour, minute)))


def stay(patient, admitted: date, discharged: date | None, *, mode: str = "emergency",
         destination: str | None = "home", diagnosis: str = "I50.9", diagnoses=(),
         facility: str = "Centre hospitalier de Douai"):
    values = {"facility_name": facility, "facility_finess": "590000021",
              "admitted_at": paris(admitted, 9), "admission_mode": mode,
              "discharged_at": paris(discharged, 15) if discharged else None,
              "discharge_destination": destination if discharged else None,
              "main_diagnosis": diagnosis, "diagnoses": list(diagnoses)}
    recorded = stay_services.record_stay(db.session, patient=patient, values=values,
                                         source=StaySource.FORM, actor=ACTOR)
    db.session.commit()
    return recorded


def appointment(patient, provider, day: date, status: str = AppointmentStatus.ATTENDED,
                hour: int = 10, **extra) -> Appointment:
    starts = paris(day, hour)
    row = Appointment(patient_id=patient.id, provider_id=provider.id, starts_at=starts,
                      duration_minutes=30, ends_at=starts + timedelta(minutes=30),
                      status=status, created_by="test", **extra)
    db.session.add(row)
    db.session.commit()
    return row


def contact(patient, user, day: date, outcome: str = "reached", hour: int = 11,
            note: str | None = None) -> Contact:
    row = Contact(patient_id=patient.id, user_id=user.id if user else None,
                  occurred_at=paris(day, hour), channel="phone", outcome=outcome, note=note)
    db.session.add(row)
    db.session.commit()
    return row


def task(patient, user, due_on: date, *, status: str = TaskStatus.OPEN,
         kind: str = TaskKind.DISCHARGE_CONTACT, stay_id: int | None = None) -> Task:
    row = Task(kind=kind, patient_id=patient.id, assignee_id=user.id if user else None,
               stay_id=stay_id, window_start=due_on - timedelta(days=2), due_on=due_on,
               status=status)
    db.session.add(row)
    db.session.commit()
    return row


def stratum(patient, code: str, day: date, reason: str = "inclusion"):
    row = assignments.assign_stratum(db.session, ACTOR, patient, factories.stratum(code), day,
                                     reason)
    db.session.commit()
    return row
