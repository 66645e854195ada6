"""The alerts of the case manager's worklist, computed live from stays, contacts and appointments
(so they show the same day, as soon as the stay is recorded), each hidden once acknowledged:

- **admitted**: a patient of the caseload is in hospital (an open stay);
- **discharged without a follow-up**: discharged in the last 7 days (Paris days, today
  included) to a place of living, alive, not admitted again since, with neither a contact that
  reached them (reached, or refused: they answered) nor an appointment booked or attended since
  the discharge. A call that went unanswered resolves the contact task (the attempt was made)
  but not this alert: the patient is still not reached;
- **readmitted**: a stay of the last 30 days that is an emergency readmission of an index stay
  (`Stay.readmission_of_id`, `stays.readmissions`).

Each is one query (the patient and the active care plan's id joined), at most `LIMIT` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager

from coordinator.auth.models import User
from coordinator.careplans.models import CarePlan, PlanStatus
from coordinator.core.time import as_utc
from coordinator.patients.models import Patient
from coordinator.permissions import caseload_scope
from coordinator.scheduling.models import Appointment, AppointmentStatus
from coordinator.stays.models import Stay
from coordinator.tasks.models import AlertAcknowledgement, AlertKind, Contact
from coordinator.tasks.protocol import NOT_LIVING_PLACES
from coordinator.tasks.services import REACHING

DISCHARGE_DAYS = 7
READMISSION_DAYS = 30
LIMIT = 50
BOOKED = (AppointmentStatus.SCHEDULED, AppointmentStatus.ATTENDED)


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    stay: Stay
    plan_id: int | None  # the patient's active care plan (the "review the plan" action)

    @property
    def patient(self) -> Patient:
        return self.stay.patient

    @property
    def at(self) -> datetime:
        """When it happened: the admission, or the discharge."""
        if self.kind == AlertKind.DISCHARGED_WITHOUT_FOLLOWUP:
            assert self.stay.discharged_at is not None
            return self.stay.discharged_at
        return self.stay.admitted_at


def _day_start(day: date) -> datetime:
    return as_utc(datetime.combine(day, time()))


def _unacknowledged(kind: AlertKind) -> ColumnElement[bool]:
    return ~exists(select(AlertAcknowledgement.id).where(
        AlertAcknowledgement.kind == kind, AlertAcknowledgement.stay_id == Stay.id))


def _alerts_query(scope: ColumnElement[bool], kind: AlertKind) -> Select:
    return (select(Stay, CarePlan.id)
            .join(Patient, Patient.id == Stay.patient_id)
            .outerjoin(CarePlan, and_(CarePlan.patient_id == Patient.id,
                                      CarePlan.status == PlanStatus.ACTIVE))
            .options(contains_eager(Stay.patient))
            .where(scope, Stay.cancelled_at.is_(None), _unacknowledged(kind)))


def admitted(scope: ColumnElement[bool]) -> Select:
    return (_alerts_query(scope, AlertKind.ADMITTED)
            .where(Stay.discharged_at.is_(None))
            .order_by(Stay.admitted_at.desc(), Stay.id.desc()))


def discharged_without_followup(scope: ColumnElement[bool], today: date) -> Select:
    later = aliased(Stay)
    return (_alerts_query(scope, AlertKind.DISCHARGED_WITHOUT_FOLLOWUP)
            .where(Stay.discharged_at >= _day_start(today - timedelta(days=DISCHARGE_DAYS)),
                   Stay.discharged_at < _day_start(today + timedelta(days=1)),
                   or_(Stay.discharge_destination.is_(None),
                       Stay.discharge_destination.not_in(NOT_LIVING_PLACES)),
                   Patient.deceased_date.is_(None),
                   ~exists(select(Contact.id).where(
                       Contact.patient_id == Stay.patient_id,
                       Contact.occurred_at >= Stay.discharged_at,
                       Contact.outcome.in_(REACHING))),
                   ~exists(select(Appointment.id).where(
                       Appointment.patient_id == Stay.patient_id,
                       Appointment.status.in_(BOOKED),
                       Appointment.starts_at >= Stay.discharged_at)),
                   ~exists(select(later.id).where(
                       later.patient_id == Stay.patient_id, later.id != Stay.id,
                       later.cancelled_at.is_(None),
                       later.admitted_at >= Stay.discharged_at)))
            .order_by(Stay.discharged_at, Stay.id))


def readmitted(scope: ColumnElement[bool], today: date) -> Select:
    return (_alerts_query(scope, AlertKind.READMITTED)
            .where(Stay.readmission_of_id.is_not(None),
                   Stay.admitted_at >= _day_start(today - timedelta(days=READMISSION_DAYS)))
            .order_by(Stay.admitted_at.desc(), Stay.id.desc()))


def _rows(session: Session, kind: AlertKind, query: Select) -> list[Alert]:
    return [Alert(kind, stay, plan_id)
            for stay, plan_id in session.execute(query.limit(LIMIT))]


def worklist_alerts(session: Session, user: User, today: date) -> dict[AlertKind, list[Alert]]:
    """The alerts of a case manager's caseload, by kind (three queries)."""
    scope = caseload_scope(user)
    return {
        AlertKind.ADMITTED: _rows(session, AlertKind.ADMITTED, admitted(scope)),
        AlertKind.DISCHARGED_WITHOUT_FOLLOWUP: _rows(
            session, AlertKind.DISCHARGED_WITHOUT_FOLLOWUP,
            discharged_without_followup(scope, today)),
        AlertKind.READMITTED: _rows(session, AlertKind.READMITTED, readmitted(scope, today)),
    }


def count(alerts: dict[AlertKind, Sequence[Alert]]) -> int:
    return sum(len(rows) for rows in alerts.values())
