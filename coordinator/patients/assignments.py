"""Enrollment and stratification: the timeline of a patient's strata in each program."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session, joinedload

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.core.errors import raise_problems
from coordinator.patients.models import Patient
from coordinator.permissions import patient_scope
from coordinator.strata.models import Program, Stratum, StratumAssignment


def _timeline_rows(session: Session, patient_id: int, program_id: int) -> list[StratumAssignment]:
    return list(session.scalars(
        select(StratumAssignment)
        .where(StratumAssignment.patient_id == patient_id,
               StratumAssignment.program_id == program_id)
        .order_by(StratumAssignment.effective_date)))


def recompute_end_dates(session: Session, patient_id: int, program_id: int) -> None:
    """Each row lasts until the day before the next one; the last stays open."""
    rows = _timeline_rows(session, patient_id, program_id)
    for row, following in zip(rows, [*rows[1:], None], strict=True):
        end = following.effective_date - timedelta(days=1) if following else None
        if row.end_date != end:
            row.end_date = end


def check_assignment(patient: Patient, program: Program, stratum: Stratum | None,
                     effective_date: date | None) -> list[tuple[str, object]]:
    """Rules of one timeline row: a stratum of that program, a date within the patient's life."""
    problems: list[tuple[str, object]] = []
    if stratum is not None and stratum.program_id != program.id:
        problems.append(("stratum", _l("Stratum %(s)s is not a stratum of program %(p)s.",
                                       s=stratum.code, p=program.code)))
    if effective_date is None:
        problems.append(("effective_date", _l("The effective date is required.")))
    else:
        if effective_date < patient.birth_date:
            problems.append(("effective_date",
                             _l("The effective date cannot be before the birth date.")))
        if patient.deceased_date and effective_date > patient.deceased_date and stratum:
            problems.append(("effective_date",
                             _l("The effective date cannot be after the date of death.")))
    return problems


def in_current_stratum(program_id: int | None = None,
                       stratum_id: int | None = None) -> ColumnElement[bool]:
    """SQL condition: the patient is today in a stratum (of this program, this stratum).

    Written as `patient.id IN (open assignments)` so that the databases read the small set
    of open assignments once through their index, rather than probing per patient.
    """
    current = select(StratumAssignment.patient_id).where(
        StratumAssignment.end_date.is_(None), StratumAssignment.stratum_id.is_not(None))
    if program_id:
        current = current.where(StratumAssignment.program_id == program_id)
    if stratum_id:
        current = current.where(StratumAssignment.stratum_id == stratum_id)
    return Patient.id.in_(current)


def without_current_stratum() -> ColumnElement[bool]:
    """SQL condition: the patient is today in no stratum of any program.

    Written as `NOT EXISTS (an open assignment of this patient)`, never as `patient.id NOT IN
    (open assignments)`: PostgreSQL cannot turn a NOT IN into an anti-join (a NULL in the list
    would change its meaning), and past a few hundred thousand patients it runs it as a
    subplan materialised and scanned per patient; NOT EXISTS is an anti-join on both
    databases (through the index on `stratum_assignment.patient_id`).
    """
    return ~exists().where(StratumAssignment.patient_id == Patient.id,
                           StratumAssignment.end_date.is_(None),
                           StratumAssignment.stratum_id.is_not(None))


def current_assignment(session: Session, patient_id: int, program_id: int
                       ) -> StratumAssignment | None:
    return session.scalar(
        select(StratumAssignment)
        .where(StratumAssignment.patient_id == patient_id,
               StratumAssignment.program_id == program_id,
               StratumAssignment.end_date.is_(None)))


def assign_stratum(session: Session, actor: Actor, patient: Patient, stratum: Stratum,
                   effective_date: date, reason: str | None = None, *,
                   program: Program | None = None) -> StratumAssignment:
    """Enroll the patient in the stratum's program, or move them to another stratum from
    `effective_date`: the previous assignment ends the day before; history is never rewritten,
    so the date must come after the current assignment's. When the caller names the `program`
    too, the stratum must be one of its strata."""
    program = program or stratum.program
    problems = check_assignment(patient, program, stratum, effective_date)
    latest = session.scalar(
        select(func.max(StratumAssignment.effective_date))
        .where(StratumAssignment.patient_id == patient.id,
               StratumAssignment.program_id == program.id))
    if latest is not None and effective_date is not None and effective_date <= latest:
        problems.append(("effective_date",
                         _l("It overlaps the assignment of %(d)s: choose a later date.",
                            d=latest.isoformat())))
    current = current_assignment(session, patient.id, program.id)
    if current is not None and current.stratum_id == stratum.id:
        problems.append(("stratum", _l("The patient is already in this stratum.")))
    raise_problems(problems)
    row = _add_row(session, actor, patient, program, stratum, effective_date, reason)
    audit.record(session, actor, AuditAction.UPDATE, "stratum_assignment", row.id,
                 patient_id=patient.id, summary=f"{program.code}: {stratum.code} "
                 f"from {effective_date.isoformat()}")
    return row


def exit_program(session: Session, actor: Actor, patient: Patient, program: Program,
                 exit_date: date, reason: str) -> StratumAssignment:
    """End the patient's enrollment in a program from `exit_date`, with a reason."""
    problems = check_assignment(patient, program, None, exit_date)
    current = current_assignment(session, patient.id, program.id)
    if current is None or current.stratum_id is None:
        problems.append(("program", _l("The patient is not enrolled in this program.")))
    elif exit_date is not None and exit_date <= current.effective_date:
        problems.append(("effective_date",
                         _l("The exit must come after the current assignment (%(d)s).",
                            d=current.effective_date.isoformat())))
    if not (reason or "").strip():
        problems.append(("reason", _l("Give the reason of the exit.")))
    raise_problems(problems)
    row = _add_row(session, actor, patient, program, None, exit_date, reason)
    audit.record(session, actor, AuditAction.UPDATE, "stratum_assignment", row.id,
                 patient_id=patient.id, summary=f"{program.code}: exit "
                 f"from {exit_date.isoformat()}")
    return row


def _add_row(session: Session, actor: Actor, patient: Patient, program: Program,
             stratum: Stratum | None, effective_date: date,
             reason: str | None) -> StratumAssignment:
    row = StratumAssignment(
        patient_id=patient.id, program_id=program.id,
        stratum_id=stratum.id if stratum else None, effective_date=effective_date,
        reason=(reason or "").strip() or None, author_user_id=actor.user_id,
        author_label=actor.label,
    )
    session.add(row)
    session.flush()
    recompute_end_dates(session, patient.id, program.id)
    session.flush()
    return row


@dataclass
class ProgramTimeline:
    program: Program
    rows: list[StratumAssignment]

    @property
    def current(self) -> StratumAssignment | None:
        return self.rows[-1] if self.rows and self.rows[-1].stratum_id else None


def timelines(session: Session, patient: Patient) -> list[ProgramTimeline]:
    """The patient's strata per program, oldest first (one query)."""
    rows = session.scalars(
        select(StratumAssignment)
        .options(joinedload(StratumAssignment.program), joinedload(StratumAssignment.stratum))
        .where(StratumAssignment.patient_id == patient.id)
        .order_by(StratumAssignment.program_id, StratumAssignment.effective_date)).all()
    by_program: dict[int, ProgramTimeline] = {}
    for row in rows:
        by_program.setdefault(row.program_id, ProgramTimeline(row.program, [])).rows.append(row)
    return sorted(by_program.values(), key=lambda t: t.program.code)


@dataclass(frozen=True)
class AssignmentSearch:
    patient_id: int | None = None
    program_id: int | None = None
    stratum_id: int | None = None
    current: bool | None = None

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if value is not None}


def search_query(user: User, criteria: AssignmentSearch) -> Select:
    """Timeline rows of the patients `user` may see. `current`: the open row of each timeline
    (an exit included) when true, the closed rows when false."""
    query = (select(StratumAssignment)
             .join(Patient, Patient.id == StratumAssignment.patient_id)
             .where(patient_scope(user))
             .options(joinedload(StratumAssignment.program),
                      joinedload(StratumAssignment.stratum)))
    if criteria.patient_id is not None:
        query = query.where(StratumAssignment.patient_id == criteria.patient_id)
    if criteria.program_id is not None:
        query = query.where(StratumAssignment.program_id == criteria.program_id)
    if criteria.stratum_id is not None:
        query = query.where(StratumAssignment.stratum_id == criteria.stratum_id)
    if criteria.current is not None:
        open_row = StratumAssignment.end_date.is_(None)
        query = query.where(open_row if criteria.current else ~open_row)
    return query.order_by(StratumAssignment.patient_id, StratumAssignment.program_id,
                          StratumAssignment.effective_date, StratumAssignment.id)


def audit_search(session: Session, actor: Actor, criteria: AssignmentSearch,
                 total: int, shown: Iterable[StratumAssignment]) -> None:
    """Listing assignments shows patients' strata: one entry per patient shown (the page),
    with the criteria and count."""
    audit.record_shown(session, actor, "stratum_assignment_search",
                       [row.patient_id for row in shown],
                       summary=f"{total} result(s)", details={"criteria": criteria.as_dict()})


def read_assignment(session: Session, actor: Actor, row: StratumAssignment
                    ) -> StratumAssignment:
    """Reading a row of a patient's timeline is audited."""
    audit.record(session, actor, AuditAction.READ, "stratum_assignment", row.id,
                 patient_id=row.patient_id)
    return row
