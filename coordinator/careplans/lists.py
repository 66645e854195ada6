"""Lists of plans: what a user may read, plans due for review (the case manager's worklist),
the shared plans of a GP or care-team professional."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, exists, select, union
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from coordinator.audit import services as audit
from coordinator.auth.models import User
from coordinator.careplans.models import CarePlan, PlanStatus
from coordinator.core.context import Actor
from coordinator.core.time import local_today
from coordinator.patients.models import Patient
from coordinator.permissions import caseload_rule_of, readable_plan_scope


def review_overdue_on(today: date) -> ColumnElement[bool]:
    """THE rule of a plan overdue for review: active, and its review date has passed (the
    worklist, the plan list's filter, the notices of `jobs.py`, the patient banner)."""
    return and_(CarePlan.status == PlanStatus.ACTIVE, CarePlan.review_date < today)


def plans_query(user: User, *, status: str | None = None, review_due: bool = False,
                mine: bool = False, today: date | None = None) -> Select:
    """Plans the user may read (with their patient), most urgent review first."""
    query = (select(CarePlan).join(Patient, Patient.id == CarePlan.patient_id)
             .options(contains_eager(CarePlan.patient), joinedload(CarePlan.coordinator)))
    query = query.where(readable_plan_scope(user))
    if status:
        query = query.where(CarePlan.status == status)
    if review_due:
        query = query.where(review_overdue_on(today or local_today()))
    if mine:
        # the caseload's plans and those I coordinate, as one IN over a UNION (an OR beside
        # the rule's subquery would be evaluated for each plan on PostgreSQL)
        managed, coordinated = aliased(Patient), aliased(CarePlan)
        query = query.where(CarePlan.patient_id.in_(union(
            select(managed.id).where(caseload_rule_of(managed, user.id)),
            select(coordinated.patient_id).where(coordinated.coordinator_id == user.id))))
    return query.order_by(CarePlan.status, CarePlan.review_date.is_(None), CarePlan.review_date,
                          Patient.birth_name_folded, CarePlan.id)


def review_overdue(user: User, today: date) -> Select:
    """Active plans of the case manager's caseload whose review date has passed."""
    return plans_query(user, review_due=True, mine=True, today=today)


def shared_with(user: User) -> Select:
    """The active plans a GP or care-team professional may read."""
    return plans_query(user, status=PlanStatus.ACTIVE)


def audit_list(session: Session, actor: Actor, plans: Sequence[CarePlan]) -> None:
    """A list of plans shows patient identities: one entry per patient shown (the page)."""
    audit.record_shown(session, actor, "care_plan_list", [plan.patient_id for plan in plans],
                       summary=f"{len(plans)} row(s)")


def banner_flags(session: Session, patient: Patient, today: date) -> dict:
    """What the patient banner shows of the care plans (extension point
    `patients.banner.PATIENT_BANNER`): whether a plan of the patient is overdue for review
    (one query)."""
    overdue = session.scalar(select(exists().where(CarePlan.patient_id == patient.id,
                                                   review_overdue_on(today))))
    return {"review_overdue": bool(overdue)}
