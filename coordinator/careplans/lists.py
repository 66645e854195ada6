"""Lists of plans: what a user may read, plans due for review (the case manager's worklist),
the shared plans of a GP or care-team professional (with what is new on each for them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, or_, select, union
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction, AuditEntry
from coordinator.auth.models import User
from coordinator.careplans.models import CarePlan, CarePlanComment, PlanStatus
from coordinator.core.context import Actor
from coordinator.core.time import local_today, utcnow
from coordinator.patients.models import Patient
from coordinator.permissions import caseload_rule_of, readable_plan_scope


def review_overdue_on(today: date) -> ColumnElement[bool]:
    """THE rule of a plan overdue for review: active, and its review date has passed (the
    worklist, the plan list's filter, the notices of `jobs.py`, the patient banner, the GP's
    list of shared plans)."""
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


# Comments new to a reader who never opened the plan (or whose openings are no longer in the
# audit trail): those of the last days.
NEW_COMMENT_DAYS = 14


@dataclass(frozen=True)
class WhatIsNew:
    """What a reader of a shared plan should look at: its review is overdue; comments by
    others since they last opened it."""

    review_overdue: bool
    new_comments: int


def what_is_new(session: Session, user: User, plans: Sequence[CarePlan], today: date,
                now: datetime | None = None) -> dict[int, WhatIsNew]:
    """For each of these plans (a page of a list): whether its review is overdue (the one rule,
    `review_overdue_on`) and how many comments others left on it since `user` last opened it
    (the latest audited read of the plan by them: opening a plan records one); never opened,
    those of the last NEW_COMMENT_DAYS days. One query whatever the number of plans."""
    if not plans:
        return {}
    since = (now or utcnow()) - timedelta(days=NEW_COMMENT_DAYS)
    last_opened = (select(func.max(AuditEntry.occurred_at))
                   .where(AuditEntry.entity_type == "care_plan",
                          AuditEntry.entity_id == cast(CarePlan.id, String),
                          AuditEntry.action == AuditAction.READ,
                          AuditEntry.actor_user_id == user.id)
                   .correlate(CarePlan).scalar_subquery())
    new_comments = (select(func.count(CarePlanComment.id))
                    .where(CarePlanComment.plan_id == CarePlan.id,
                           or_(CarePlanComment.author_user_id.is_(None),
                               CarePlanComment.author_user_id != user.id),
                           CarePlanComment.created_at > func.coalesce(last_opened, since))
                    .correlate(CarePlan).scalar_subquery())
    rows = session.execute(select(CarePlan.id, review_overdue_on(today), new_comments)
                           .where(CarePlan.id.in_([plan.id for plan in plans])))
    return {plan_id: WhatIsNew(bool(overdue), int(count or 0))
            for plan_id, overdue, count in rows}


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
