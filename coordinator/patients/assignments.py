"""Enrollment and stratification: the timeline of a patient's strata in each program."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, update
from sqlalchemy.orm import Session, joinedload

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.core.errors import raise_problems
from coordinator.core.time import local_today
from coordinator.patients.models import Patient
from coordinator.permissions import patient_scope
from coordinator.strata.models import Program, Stratum, StratumAssignment, StratumCorrection

DEFAULT_MAX_DAYS_AHEAD = 31


def max_days_ahead() -> int:
    """How many days ahead of today an assignment may take effect (`STRATUM_MAX_DAYS_AHEAD`)."""
    return int(current_app.config.get("STRATUM_MAX_DAYS_AHEAD", DEFAULT_MAX_DAYS_AHEAD))


# -- The one definition of "in a stratum" ------------------------------------------------------
# A row of a timeline puts the patient in its stratum from its effective date to its end date
# (open: until further notice). "The current stratum" is the row covering TODAY: a row dated in
# the future is not current yet (the one before it still is), an exit row is no stratum, and a
# cancelled row no longer exists (see `correct_assignment`). The record, the plan form, the
# worklists, the API and the metrics all ask through these functions.

def assigned_on(assignment: Any, day: Any) -> ColumnElement[bool]:
    """SQL condition: the assignment row (`StratumAssignment` or an alias of it) puts the
    patient in a stratum on `day` (a date or a column)."""
    return and_(assignment.stratum_id.is_not(None), assignment.effective_date <= day,
                or_(assignment.end_date.is_(None), assignment.end_date >= day))


def covers(row: StratumAssignment, day: date) -> bool:
    """`assigned_on` for a loaded row, exit rows included (the row in force on `day`)."""
    return row.effective_date <= day and (row.end_date is None or row.end_date >= day)


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
        limit = local_today() + timedelta(days=max_days_ahead())
        if effective_date > limit:
            problems.append(("effective_date",
                             _l("The effective date cannot be more than %(n)s days ahead "
                                "(at most %(d)s).", n=max_days_ahead(),
                                d=limit.isoformat())))
    return problems


def in_current_stratum(program_id: int | None = None, stratum_id: int | None = None,
                       today: date | None = None) -> ColumnElement[bool]:
    """SQL condition: the patient is today in a stratum (of this program, this stratum).

    Written as `patient.id IN (current assignments)` so that the databases read the small set
    of current assignments once through their index, rather than probing per patient.
    """
    current = select(StratumAssignment.patient_id).where(
        assigned_on(StratumAssignment, today or local_today()))
    if program_id:
        current = current.where(StratumAssignment.program_id == program_id)
    if stratum_id:
        current = current.where(StratumAssignment.stratum_id == stratum_id)
    return Patient.id.in_(current)


def without_current_stratum(today: date | None = None) -> ColumnElement[bool]:
    """SQL condition: the patient is today in no stratum of any program.

    Written as `NOT EXISTS (a current assignment of this patient)`, never as `patient.id NOT
    IN (...)`: PostgreSQL cannot turn a NOT IN into an anti-join (a NULL in the list would
    change its meaning), and past a few hundred thousand patients it runs it as a subplan
    materialised and scanned per patient; NOT EXISTS is an anti-join on both databases
    (through the index on `stratum_assignment.patient_id`).
    """
    return ~exists().where(StratumAssignment.patient_id == Patient.id,
                           assigned_on(StratumAssignment, today or local_today()))


def current_strata(session: Session, patient_id: int, today: date | None = None,
                   *, options: tuple = ()) -> list[Stratum]:
    """The strata the patient is in today, one per program (one query)."""
    return list(session.scalars(
        select(Stratum).join(StratumAssignment, StratumAssignment.stratum_id == Stratum.id)
        .options(*options)
        .where(StratumAssignment.patient_id == patient_id,
               assigned_on(StratumAssignment, today or local_today()))))


def current_assignment(session: Session, patient_id: int, program_id: int,
                       today: date | None = None) -> StratumAssignment | None:
    """The row of the program's timeline in force today (an exit included), if any."""
    day = today or local_today()
    return session.scalar(
        select(StratumAssignment)
        .where(StratumAssignment.patient_id == patient_id,
               StratumAssignment.program_id == program_id,
               StratumAssignment.effective_date <= day,
               or_(StratumAssignment.end_date.is_(None), StratumAssignment.end_date >= day)))


def assign_stratum(session: Session, actor: Actor, patient: Patient, stratum: Stratum,
                   effective_date: date, reason: str | None = None, *,
                   program: Program | None = None) -> StratumAssignment:
    """Enroll the patient in the stratum's program, or move them to another stratum from
    `effective_date`: the previous assignment ends the day before; history is never rewritten,
    so the date must come after the current assignment's. When the caller names the `program`
    too, the stratum must be one of its strata."""
    program = program or stratum.program
    problems = check_assignment(patient, program, stratum, effective_date)
    rows = _timeline_rows(session, patient.id, program.id)
    latest = rows[-1] if rows else None
    if latest is not None and effective_date is not None and \
            effective_date <= latest.effective_date:
        problems.append(("effective_date",
                         _l("It overlaps the assignment of %(d)s: choose a later date "
                            "(or correct that assignment).",
                            d=latest.effective_date.isoformat())))
    if latest is not None and latest.stratum_id == stratum.id:
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
    rows = _timeline_rows(session, patient.id, program.id)
    latest = rows[-1] if rows else None
    if latest is None or latest.stratum_id is None:
        problems.append(("program", _l("The patient is not enrolled in this program.")))
    elif exit_date is not None and exit_date <= latest.effective_date:
        problems.append(("effective_date",
                         _l("The exit must come after the current assignment (%(d)s).",
                            d=latest.effective_date.isoformat())))
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
    corrections: list[StratumCorrection] = field(default_factory=list)
    today: date = field(default_factory=local_today)

    @property
    def current(self) -> StratumAssignment | None:
        """The row in force today when it is a stratum (`assigned_on`): not a future row."""
        for row in self.rows:
            if covers(row, self.today):
                return row if row.stratum_id else None
        return None

    @property
    def upcoming(self) -> list[StratumAssignment]:
        """Rows dated after today (not in force yet)."""
        return [row for row in self.rows if row.effective_date > self.today]


def timelines(session: Session, patient: Patient) -> list[ProgramTimeline]:
    """The patient's strata per program, oldest first, with their corrections (two
    queries)."""
    rows = session.scalars(
        select(StratumAssignment)
        .options(joinedload(StratumAssignment.program), joinedload(StratumAssignment.stratum))
        .where(StratumAssignment.patient_id == patient.id)
        .order_by(StratumAssignment.program_id, StratumAssignment.effective_date)).all()
    corrections = session.scalars(
        select(StratumCorrection)
        .options(joinedload(StratumCorrection.program),
                 joinedload(StratumCorrection.old_stratum),
                 joinedload(StratumCorrection.new_stratum))
        .where(StratumCorrection.patient_id == patient.id)
        .order_by(StratumCorrection.created_at, StratumCorrection.id)).all()
    by_program: dict[int, ProgramTimeline] = {}
    for row in rows:
        by_program.setdefault(row.program_id, ProgramTimeline(row.program, [])).rows.append(row)
    for correction in corrections:
        by_program.setdefault(correction.program_id, ProgramTimeline(correction.program, [])) \
            .corrections.append(correction)
    return sorted(by_program.values(), key=lambda t: t.program.code)


def correct_assignment(session: Session, actor: Actor, row: StratumAssignment, *,
                       reason: str | None, stratum: Stratum | None = None,
                       effective_date: date | None = None,
                       cancel: bool = False) -> StratumCorrection:
    """Correct a row of a timeline entered wrongly: its date, its stratum (not of an exit), or
    cancel it (it leaves the timeline). Not a move: the row says the corrected fact, and a
    `StratumCorrection` keeps what it said, who corrected it and why (mandatory); audited."""
    patient = session.get(Patient, row.patient_id)
    program = session.get(Program, row.program_id)
    assert patient is not None and program is not None
    problems: list[tuple[str, object]] = []
    if not (reason or "").strip():
        problems.append(("reason", _l("Give the reason of the correction.")))
    new_date = row.effective_date if cancel or effective_date is None else effective_date
    new_stratum = row.stratum if cancel or stratum is None else stratum
    if not cancel:
        if stratum is not None and row.stratum_id is None:
            problems.append(("stratum", _l("An exit has no stratum to correct: correct its "
                                           "date, or cancel it.")))
        elif new_date == row.effective_date and (new_stratum and new_stratum.id) == \
                row.stratum_id:
            problems.append(("effective_date", _l("Change the date or the stratum, or cancel "
                                                  "the assignment.")))
        problems += check_assignment(patient, program, new_stratum, new_date)
        others = [other for other in _timeline_rows(session, patient.id, program.id)
                  if other.id != row.id]
        before = [other for other in others if other.effective_date < row.effective_date]
        after = [other for other in others if other.effective_date > row.effective_date]
        if (before and new_date <= before[-1].effective_date) or \
                (after and new_date >= after[0].effective_date):
            problems.append(("effective_date",
                             _l("The corrected date must stay between the assignments before "
                                "and after it.")))
        if new_stratum is not None and row.stratum_id is not None and (
                (before and before[-1].stratum_id == new_stratum.id) or
                (after and after[0].stratum_id == new_stratum.id)):
            problems.append(("stratum", _l("The assignment before or after it is already in "
                                           "this stratum: cancel this one instead.")))
    raise_problems(problems)
    correction = StratumCorrection(
        patient_id=patient.id, program_id=program.id, assignment_id=row.id, cancelled=cancel,
        old_stratum_id=row.stratum_id, old_effective_date=row.effective_date,
        new_stratum_id=None if cancel else (new_stratum.id if new_stratum else None),
        new_effective_date=None if cancel else new_date, reason=(reason or "").strip(),
        author_user_id=actor.user_id, author_label=actor.label)
    session.add(correction)
    old_label = f"{row.stratum.code if row.stratum else 'exit'} " \
                f"from {row.effective_date.isoformat()}"
    if cancel:
        session.delete(row)
        summary = f"{program.code}: {old_label} cancelled"
    else:
        row.effective_date = new_date
        row.stratum = new_stratum
        summary = f"{program.code}: {old_label} corrected to " \
                  f"{new_stratum.code if new_stratum else 'exit'} from {new_date.isoformat()}"
    session.flush()
    recompute_end_dates(session, patient.id, program.id)
    session.flush()
    audit.record(session, actor, AuditAction.UPDATE, "stratum_assignment", correction.assignment_id,
                 patient_id=patient.id, summary=summary,
                 details={"correction_id": correction.id, "reason": correction.reason})
    return correction


def move_corrections(session: Session, keep: Patient, merged: Patient) -> None:
    """At a merge, the corrections of the merged record follow its timeline (one UPDATE)."""
    session.execute(update(StratumCorrection).where(StratumCorrection.patient_id == merged.id)
                    .values(patient_id=keep.id))


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
