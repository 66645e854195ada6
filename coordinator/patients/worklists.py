"""The case manager's worklists: caseload, patients without a stratum, strata gone up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.patients.assignments import in_current_stratum, without_current_stratum
from coordinator.patients.models import Patient
from coordinator.permissions import caseload_scope, patient_scope
from coordinator.strata.models import Stratum, StratumAssignment

RECENT_DAYS = 30


@dataclass(frozen=True)
class WorklistFilter:
    program_id: int | None = None
    stratum_id: int | None = None


def _current(filters: WorklistFilter) -> ColumnElement[bool]:
    return in_current_stratum(filters.program_id, filters.stratum_id)


def caseload(user: User, filters: WorklistFilter) -> Select:
    """Patients assigned to this case manager (alive first, by name)."""
    query = select(Patient).where(caseload_scope(user))
    if filters.program_id or filters.stratum_id:
        query = query.where(_current(filters))
    shown_name = func.coalesce(Patient.used_name_folded, Patient.birth_name_folded)
    return query.order_by(Patient.deceased_date.is_not(None), shown_name,
                          Patient.first_name_folded, Patient.id)


def unstratified(user: User) -> Select:
    """Living patients of the user's territory in no stratum of any program."""
    return (select(Patient)
            .where(patient_scope(user), Patient.deceased_date.is_(None),
                   without_current_stratum())
            .order_by(Patient.created_at.desc(), Patient.id.desc()))


def stratum_went_up(user: User, filters: WorklistFilter, today: date) -> Select:
    """(patient, new stratum, previous level, effective date) for the patients of the user's
    territory whose stratum level rose in the last 30 days."""
    previous_level = func.lag(Stratum.level).over(
        partition_by=(StratumAssignment.patient_id, StratumAssignment.program_id),
        order_by=StratumAssignment.effective_date,
    )
    cutoff = today - timedelta(days=RECENT_DAYS)
    recent = aliased(StratumAssignment)
    recently_moved = select(recent.patient_id).where(recent.effective_date >= cutoff)
    moves = (select(StratumAssignment.id.label("assignment_id"),
                    StratumAssignment.patient_id, StratumAssignment.stratum_id,
                    StratumAssignment.effective_date, Stratum.level.label("level"),
                    previous_level.label("previous_level"))
             .join(Stratum, Stratum.id == StratumAssignment.stratum_id, isouter=True)
             .where(StratumAssignment.patient_id.in_(recently_moved))
             .subquery())
    query = (select(Patient, Stratum, moves.c.previous_level, moves.c.effective_date)
             .join(moves, moves.c.patient_id == Patient.id)
             .join(Stratum, Stratum.id == moves.c.stratum_id)
             .where(patient_scope(user),
                    moves.c.effective_date >= cutoff,
                    moves.c.effective_date <= today,
                    and_(moves.c.previous_level.is_not(None),
                         moves.c.level > moves.c.previous_level)))
    if filters.program_id:
        query = query.where(Stratum.program_id == filters.program_id)
    if filters.stratum_id:
        query = query.where(Stratum.id == filters.stratum_id)
    return query.order_by(moves.c.effective_date.desc(), Patient.id)


def audit_view(session: Session, actor: Actor, shown: int,
               patient_ids: Iterable[int | None]) -> None:
    """Worklists show patient identities: one entry per patient shown (in any of the lists)."""
    from coordinator.audit import services as audit

    audit.record_shown(session, actor, "worklist", patient_ids, summary=f"{shown} row(s)")
