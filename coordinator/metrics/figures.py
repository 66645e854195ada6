"""Every figure of docs/metrics.md, computed in SQL: the one place they are defined.

Each function is one aggregate query over a set of periods (a VALUES table `period` of their
bounds, see `periods.Period`), optionally grouped by territory as well, so that a call costs the
same few statements whatever the number of patients, periods (current, previous, twelve months)
or territories: no row is ever loaded into Python, no query runs per row. The numbers come back
raw (exact); `coordinator.metrics.results` assembles them into figures and applies small-cell
suppression.

The **cohort** of a period: the live (not merged) patients of the scope (territory, a case
manager's caseload as `permissions.caseload_scope` says), and with a program those with an
assignment to one of its strata (to the stratum, with a stratum) whose interval overlaps the
period. Days are Europe/Paris local days: appointments are compared with the UTC instants of the
period's local midnights, stays with their stored local days (`Stay.discharged_on`), and the 7
days after a discharge with a calendar of those days' local midnights (`_calendar`), computed in
Python by zoneinfo: no time zone arithmetic in SQL, the same results on SQLite and PostgreSQL.

Readmissions are not redefined here: the stored flags `Stay.is_index_stay` and
`Stay.readmitted_by_id`, kept by `coordinator.stays.readmissions` (the one definition), are
counted for the index stays discharged in the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    case,
    column,
    exists,
    func,
    or_,
    select,
    text,
    true,
    values,
)
from sqlalchemy.orm import Session, aliased

from coordinator.auth.models import User
from coordinator.careplans.models import CarePlan
from coordinator.core.types import UTCDateTime
from coordinator.metrics.periods import Period, days_of, midnight_utc
from coordinator.patients.assignments import assigned_on
from coordinator.patients.models import Patient
from coordinator.permissions import caseload_scope
from coordinator.scheduling.models import Appointment, AppointmentStatus
from coordinator.stays.models import ClinicalEvent, EventType, Stay
from coordinator.strata.models import Stratum, StratumAssignment

# The appointments whose outcome counts in the no-show rate (cancelled and still-scheduled
# ones are not in its denominator).
NO_SHOW_OUTCOMES = (AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW)
FOLLOW_UP_DAYS = 7  # an attended appointment from the discharge day to 7 days after it
FLU_CODE = "influenza"


# -- What is counted, for one period (and one territory when grouped) ----------------------------

@dataclass
class Snapshot:
    """Patients alive on the period's last day: how many, how many in a stratum requiring a care
    plan (`eligible`) and of them with a plan active that day, how many aged 65 or more
    (`older`) and of them vaccinated against influenza within the 365 days."""

    population: int = 0
    eligible: int = 0
    with_plan: int = 0
    older: int = 0
    older_vaccinated: int = 0

    def __add__(self, other: Snapshot) -> Snapshot:
        return Snapshot(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> tuple[int, int, int, int, int]:
        return (self.population, self.eligible, self.with_plan, self.older,
                self.older_vaccinated)


@dataclass
class Outcomes:
    """Appointments starting in the period: attended, no-show, past and still scheduled."""

    attended: int = 0
    no_show: int = 0
    outcome_missing: int = 0

    def __add__(self, other: Outcomes) -> Outcomes:
        return Outcomes(self.attended + other.attended, self.no_show + other.no_show,
                        self.outcome_missing + other.outcome_missing)


@dataclass
class IndexStays:
    """Index stays discharged in the period: how many, readmitted, followed up in 7 days."""

    index_stays: int = 0
    readmitted: int = 0
    followed_up: int = 0

    def __add__(self, other: IndexStays) -> IndexStays:
        return IndexStays(self.index_stays + other.index_stays,
                          self.readmitted + other.readmitted,
                          self.followed_up + other.followed_up)


@dataclass
class Raw:
    """The exact counts of one period (and territory): the material of every figure.

    `by_stratum` is the snapshot split by the stratum each patient is in on the last day (the
    strata of the program asked, or of every program); `registry` the snapshot of every patient
    of the scope (asked without a program). `transitions` are (up, down) per program (every
    program, or with a stratum only the stratum's cohort in its program). `appointments` and
    `stays` are split by `followed`: whether the patient had an active care plan at any time in
    the period.
    """

    by_stratum: dict[int, Snapshot] = field(default_factory=dict)
    registry: Snapshot = field(default_factory=Snapshot)
    transitions: dict[int, tuple[int, int]] = field(default_factory=dict)
    appointments: dict[bool, Outcomes] = field(
        default_factory=lambda: {True: Outcomes(), False: Outcomes()})
    stays: dict[bool, IndexStays] = field(
        default_factory=lambda: {True: IndexStays(), False: IndexStays()})
    plans_review_overdue: int = 0


def total(raws: Iterable[Raw]) -> Raw:
    """The sum of raw counts of disjoint sets of patients (the territories of a period): what
    the same statements give for all of them at once."""
    found = Raw()
    for raw in raws:
        for stratum_id, snapshot in raw.by_stratum.items():
            found.by_stratum[stratum_id] = found.by_stratum.get(stratum_id, Snapshot()) + snapshot
        found.registry = found.registry + raw.registry
        for program_id, (up, down) in raw.transitions.items():
            before = found.transitions.get(program_id, (0, 0))
            found.transitions[program_id] = (before[0] + up, before[1] + down)
        for followed in (True, False):
            found.appointments[followed] = found.appointments[followed] + \
                raw.appointments[followed]
            found.stays[followed] = found.stays[followed] + raw.stays[followed]
        found.plans_review_overdue += raw.plans_review_overdue
    return found


def raw_to_json(raw: Raw) -> dict[str, Any]:
    """The counts of `raw` as JSON (what `metrics.stored` keeps); `raw_from_json` reads them."""
    return {"by_stratum": {str(key): list(value.values()) for key, value in raw.by_stratum.items()},
            "registry": list(raw.registry.values()),
            "transitions": {str(key): list(value) for key, value in raw.transitions.items()},
            "appointments": {_FOLLOWED[followed]: [value.attended, value.no_show,
                                                   value.outcome_missing]
                             for followed, value in raw.appointments.items()},
            "stays": {_FOLLOWED[followed]: [value.index_stays, value.readmitted,
                                            value.followed_up]
                      for followed, value in raw.stays.items()},
            "plans_review_overdue": raw.plans_review_overdue}


def raw_from_json(data: dict[str, Any]) -> Raw:
    followed = {name: flag for flag, name in _FOLLOWED.items()}
    return Raw(
        by_stratum={int(key): Snapshot(*value) for key, value in data["by_stratum"].items()},
        registry=Snapshot(*data["registry"]),
        transitions={int(key): (value[0], value[1])
                     for key, value in data["transitions"].items()},
        appointments={followed[key]: Outcomes(*value)
                      for key, value in data["appointments"].items()},
        stays={followed[key]: IndexStays(*value) for key, value in data["stays"].items()},
        plans_review_overdue=data["plans_review_overdue"])


_FOLLOWED = {True: "followed", False: "not_followed"}


@dataclass(frozen=True)
class Scope:
    """Whose figures: a territory (None: all), a program and a stratum of it (None: the whole
    registry), a case manager's caseload (None: everyone of the territory)."""

    territory_id: int | None = None
    program_id: int | None = None
    stratum_id: int | None = None
    caseload_of: User | None = None


Key = tuple[int, int | None]  # (index of the period, territory id when grouped by territory)


# -- Building blocks ------------------------------------------------------------------------------

def _period_table(periods: Sequence[Period]) -> CTE:
    rows = [(index, p.first, p.last, p.starts_utc, p.ends_utc, p.older_born_by,
             p.flu_window_first) for index, p in enumerate(periods)]
    return values(
        column("k", Integer), column("first_day", Date), column("last_day", Date),
        column("starts_at", UTCDateTime()), column("ends_at", UTCDateTime()),
        column("older_born_by", Date), column("flu_from", Date), name="period",
    ).data(rows).cte("period")


def _calendar(periods: Sequence[Period]) -> CTE:
    """For each day of the periods, the UTC instants of its Paris midnight and of the midnight
    ending the 7 days after it: the window of a follow-up appointment after a discharge."""
    rows = [(day, midnight_utc(day), midnight_utc(day + timedelta(days=FOLLOW_UP_DAYS + 1)))
            for day in days_of(periods)]
    return values(column("day", Date), column("starts_at", UTCDateTime()),
                  column("ends_at", UTCDateTime()), name="calendar").data(rows).cte("calendar")


def _scope_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Patient.merged_into_id.is_(None)]
    if scope.territory_id is not None:
        conditions.append(Patient.territory_id == scope.territory_id)
    if scope.caseload_of is not None:
        conditions.append(caseload_scope(scope.caseload_of))
    return conditions


def _alive_on(day: Any) -> ColumnElement[bool]:
    """Born by `day` and not dead by then (a patient who died on `day` is not alive on it)."""
    return and_(Patient.birth_date <= day,
                or_(Patient.deceased_date.is_(None), Patient.deceased_date > day))


def _enrolled_in_period(scope: Scope, period: CTE, assignment: Any) -> list[ColumnElement[bool]]:
    """The assignment is to the scope's program (its stratum) and overlaps the period."""
    conditions = [assignment.program_id == scope.program_id,
                  assignment.stratum_id.is_not(None),
                  assignment.effective_date <= period.c.last_day,
                  or_(assignment.end_date.is_(None), assignment.end_date >= period.c.first_day)]
    if scope.stratum_id is not None:
        conditions.append(assignment.stratum_id == scope.stratum_id)
    return conditions


def _in_cohort(scope: Scope, period: CTE, patient_id: Any) -> ColumnElement[bool]:
    """With a program (a stratum): an assignment to it overlapping the period."""
    if scope.program_id is None:
        return true()
    assignment = aliased(StratumAssignment)
    return exists().where(assignment.patient_id == patient_id,
                          *_enrolled_in_period(scope, period, assignment))


def _cohort_set(scope: Scope, period: CTE) -> CTE:
    """With a program: (k, patient_id) of each period's cohort, once each (`_in_cohort` as a
    set, hashed once rather than probed per appointment or stay)."""
    assignment = aliased(StratumAssignment)
    return (select(period.c.k.label("k"), assignment.patient_id.label("patient_id"))
            .select_from(period)
            .join(assignment, and_(*_enrolled_in_period(scope, period, assignment)))
            .distinct().cte("cohort"))


def _assigned_on(assignment: Any, day: Any) -> ColumnElement[bool]:
    """The assignment row is in a stratum (not an exit) on `day`: the registry's one
    definition (`patients.assignments.assigned_on`; a cancelled row is no longer there, a
    corrected one says the corrected fact)."""
    return assigned_on(assignment, day)


def plan_active_on(plan: Any, day: Any) -> ColumnElement[bool]:
    """A care plan is active on a day from the day it was activated to the day before it was
    closed (a plan closed the day it was activated was never active)."""
    return and_(plan.activated_on.is_not(None), plan.activated_on <= day,
                or_(plan.closed_on.is_(None), plan.closed_on > day))


def _active_in_period(plan: Any, period: CTE) -> ColumnElement[bool]:
    """The care plan was active at some time in the period (`followed_vs_not`)."""
    return and_(plan.activated_on.is_not(None), plan.activated_on <= period.c.last_day,
                or_(plan.closed_on.is_(None),
                    and_(plan.closed_on > period.c.first_day,
                         plan.closed_on > plan.activated_on)))


def _followed_set(period: CTE) -> CTE:
    """(k, patient_id) of the patients followed in each period (an active care plan at some
    time in it), once each: hashed once, joined to the appointments or stays counted."""
    plan = aliased(CarePlan)
    return (select(period.c.k.label("k"), plan.patient_id.label("patient_id"))
            .select_from(period).join(plan, _active_in_period(plan, period))
            .distinct().cte("followed"))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _group(period: CTE, by_territory: bool, territory: Any) -> list[Any]:
    return [period.c.k, territory] if by_territory else [period.c.k]


def _key(row: Any, by_territory: bool) -> Key:
    return (int(row[0]), int(row[1]) if by_territory and row[1] is not None else None)


# -- The queries ----------------------------------------------------------------------------------

def _vaccinated(event: Any, period: CTE) -> ColumnElement[bool]:
    """An influenza immunization within the 365 days up to the period's last day."""
    return and_(event.event_type == EventType.IMMUNIZATION, event.code == FLU_CODE,
                event.occurred_on >= period.c.flu_from, event.occurred_on <= period.c.last_day)


def _pairs(period: CTE, entity: Any, condition: ColumnElement[bool], name: str) -> CTE:
    """(k, patient_id) of the patients with a row of `entity` meeting `condition` in each
    period, once each: a set computed once and hashed, rather than a subquery per patient."""
    return (select(period.c.k.label("k"), entity.patient_id.label("patient_id"))
            .select_from(period).join(entity, condition).distinct().cte(name))


def _snapshot_sets(period: CTE) -> tuple[CTE, CTE]:
    """Who has a care plan active on each period's last day, and who was vaccinated against
    influenza within the 365 days up to it."""
    plan = aliased(CarePlan)
    event = aliased(ClinicalEvent)
    return (_pairs(period, plan, plan_active_on(plan, period.c.last_day), "active"),
            _pairs(period, event, _vaccinated(event, period), "vaccinated"))


def _snapshot_query(period: CTE, by_territory: bool, eligible: ColumnElement[bool],
                    *extra: Any) -> tuple[Select[Any], list[Any]]:
    """population, eligible, eligible with a plan active on the last day, aged 65 or more on
    it, and of them vaccinated against influenza within the 365 days up to it (grouped by
    period, territory when asked, and `extra`): the query from `period`, to be joined to the
    patients counted, and its group."""
    active, vaccinated = _snapshot_sets(period)
    older = Patient.birth_date <= period.c.older_born_by
    group = [*_group(period, by_territory, Patient.territory_id), *extra]
    query = select(
        *group, func.count(), _count_if(eligible),
        _count_if(and_(eligible, active.c.patient_id.is_not(None))), _count_if(older),
        _count_if(and_(older, vaccinated.c.patient_id.is_not(None)))).select_from(period)
    return query, [active, vaccinated]


def _join_sets(query: Select[Any], period: CTE, sets: list[CTE]) -> Select[Any]:
    for found in sets:
        query = query.outerjoin(found, and_(found.c.k == period.c.k,
                                            found.c.patient_id == Patient.id))
    return query


def snapshot_by_stratum(scope: Scope, period: CTE, by_territory: bool) -> Select[Any]:
    """Patients alive on the last day, by the stratum they are in that day (of the program, or
    of every program without one: a patient then counts once per program)."""
    assignment = aliased(StratumAssignment)
    stratum = aliased(Stratum)
    query, sets = _snapshot_query(period, by_territory, stratum.requires_care_plan.is_(True),
                                  assignment.stratum_id)
    query = (query.join(assignment, _assigned_on(assignment, period.c.last_day))
             .join(Patient, Patient.id == assignment.patient_id)
             .join(stratum, stratum.id == assignment.stratum_id))
    query = (_join_sets(query, period, sets)
             .where(*_scope_conditions(scope), _alive_on(period.c.last_day))
             .group_by(*_group(period, by_territory, Patient.territory_id),
                       assignment.stratum_id))
    if scope.program_id is not None:
        query = query.where(assignment.program_id == scope.program_id)
    return query


def snapshot_of_registry(scope: Scope, period: CTE, by_territory: bool) -> Select[Any]:
    """Every patient of the scope alive on the last day (asked without a program): eligible
    when in a stratum requiring a care plan, of any program. Who is eligible, has an active
    plan or was vaccinated on each period's last day are sets (k, patient), each computed
    once and joined."""
    assignment = aliased(StratumAssignment)
    stratum = aliased(Stratum)
    eligible = _pairs(period, assignment, and_(
        _assigned_on(assignment, period.c.last_day),
        exists().where(stratum.id == assignment.stratum_id,
                       stratum.requires_care_plan.is_(True))), "eligible")
    query, sets = _snapshot_query(period, by_territory, eligible.c.patient_id.is_not(None))
    query = _join_sets(query.join(Patient, true()), period, [eligible, *sets])
    return (query.where(*_scope_conditions(scope), _alive_on(period.c.last_day))
            .group_by(*_group(period, by_territory, Patient.territory_id)))


def transitions(scope: Scope, period: CTE, by_territory: bool, last: Any) -> Select[Any]:
    """Stratum changes with an effective date in the period, per program: a row whose previous
    row (same patient and program, by effective date) is in a stratum too; `up` when the new
    stratum's level is higher. A first assignment, an exit (no stratum) and the re-entry after
    an exit (its previous row is the exit) are not transitions. Every program, unless a
    stratum is asked: then that stratum's cohort, in its program."""
    assignment = StratumAssignment
    rows = (
        select(assignment.patient_id, assignment.program_id, assignment.effective_date,
               assignment.stratum_id, Patient.territory_id,
               func.lag(assignment.stratum_id).over(
                   partition_by=(assignment.patient_id, assignment.program_id),
                   order_by=assignment.effective_date).label("previous_id"))
        .join(Patient, Patient.id == assignment.patient_id)
        .where(*_scope_conditions(scope), assignment.effective_date <= last)
    )
    if scope.stratum_id is not None:
        rows = rows.where(assignment.program_id == scope.program_id)
    changes = rows.subquery("changes")
    new = aliased(Stratum)
    old = aliased(Stratum)
    query = (
        select(*_group(period, by_territory, changes.c.territory_id), changes.c.program_id,
               _count_if(new.level > old.level), _count_if(new.level < old.level))
        .select_from(changes)
        .join(period, and_(changes.c.effective_date >= period.c.first_day,
                           changes.c.effective_date <= period.c.last_day))
        .join(new, new.id == changes.c.stratum_id)
        .join(old, old.id == changes.c.previous_id)
        .group_by(*_group(period, by_territory, changes.c.territory_id), changes.c.program_id)
    )
    if scope.stratum_id is not None:
        query = query.where(_in_cohort(scope, period, changes.c.patient_id))
    return query


def _counted_rows(query: Select[Any], scope: Scope, period: CTE, patient_id: Any
                  ) -> tuple[Select[Any], ColumnElement[bool]]:
    """Appointments or stays (`query`, already joined to their period) of the scope's
    patients, in the period's cohort, with whether the patient was followed in it."""
    followed = _followed_set(period)
    query = (query.join(Patient, Patient.id == patient_id)
             .outerjoin(followed, and_(followed.c.k == period.c.k,
                                       followed.c.patient_id == patient_id))
             .where(*_scope_conditions(scope)))
    if scope.program_id is not None:
        cohort = _cohort_set(scope, period)
        query = query.join(cohort, and_(cohort.c.k == period.c.k,
                                        cohort.c.patient_id == patient_id))
    return query, followed.c.patient_id.is_not(None)


def appointments(scope: Scope, period: CTE, by_territory: bool, now: datetime,
                 span: tuple[datetime, datetime]) -> Select[Any]:
    """Appointments of cohort patients starting in the period: attended, no-show, and past
    (ended before `now`) but still scheduled; split by `followed`. Driven by the
    appointments of the periods' span (`span`: the first period's start, the last one's end),
    each joined to its periods."""
    query: Select[Any] = (
        select(Appointment.patient_id).select_from(Appointment)
        .join(period, and_(Appointment.starts_at >= period.c.starts_at,
                           Appointment.starts_at < period.c.ends_at))
        .where(Appointment.status.in_((*NO_SHOW_OUTCOMES, AppointmentStatus.SCHEDULED)),
               Appointment.starts_at >= span[0], Appointment.starts_at < span[1]))
    query, followed = _counted_rows(query, scope, period, Appointment.patient_id)
    group = _group(period, by_territory, Patient.territory_id)
    missing = and_(Appointment.status == AppointmentStatus.SCHEDULED, Appointment.ends_at < now)
    return (query.with_only_columns(
        *group, followed, _count_if(Appointment.status == AppointmentStatus.ATTENDED),
        _count_if(Appointment.status == AppointmentStatus.NO_SHOW), _count_if(missing),
        maintain_column_froms=True)
        .group_by(*group, followed))


def index_stays(scope: Scope, period: CTE, calendar: CTE, by_territory: bool,
                days: tuple[date, date]) -> Select[Any]:
    """Index stays of cohort patients discharged in the period (the stored flags of
    `stays.readmissions`): how many, readmitted, followed up by an attended appointment from
    the discharge day to 7 days after it; split by `followed`. Driven by the stays discharged
    in the periods' span (`days`: its first and last day)."""
    visit = aliased(Appointment)
    followed_up = exists().where(
        visit.patient_id == Stay.patient_id, visit.status == AppointmentStatus.ATTENDED,
        visit.starts_at >= calendar.c.starts_at, visit.starts_at < calendar.c.ends_at)
    query: Select[Any] = (
        select(Stay.patient_id).select_from(Stay)
        .join(period, and_(Stay.discharged_on >= period.c.first_day,
                           Stay.discharged_on <= period.c.last_day))
        .join(calendar, calendar.c.day == Stay.discharged_on)
        .where(Stay.is_index_stay.is_(True), Stay.discharged_on >= days[0],
               Stay.discharged_on <= days[1]))
    query, followed = _counted_rows(query, scope, period, Stay.patient_id)
    group = _group(period, by_territory, Patient.territory_id)
    return (query.with_only_columns(
        *group, followed, func.count(), _count_if(Stay.readmitted_by_id.is_not(None)),
        _count_if(followed_up), maintain_column_froms=True)
        .group_by(*group, followed))


def plans_review_overdue(scope: Scope, period: CTE, by_territory: bool) -> Select[Any]:
    """Care plans of cohort patients active on the last day whose review date is before it."""
    return (
        select(*_group(period, by_territory, Patient.territory_id), func.count())
        .select_from(CarePlan)
        .join(Patient, Patient.id == CarePlan.patient_id)
        .join(period, and_(plan_active_on(CarePlan, period.c.last_day),
                           CarePlan.review_date < period.c.last_day))
        .where(*_scope_conditions(scope), _in_cohort(scope, period, Patient.id))
        .group_by(*_group(period, by_territory, Patient.territory_id))
    )


# -- All of them ----------------------------------------------------------------------------------

@contextmanager
def _without_jit(session: Session) -> Iterator[None]:
    """PostgreSQL: the statements run without JIT compilation. Their correlated subqueries make
    the planner's estimate cross `jit_above_cost` from a few thousand patients on, and compiling
    then costs more than the statement itself (0.6 of 0.75 s measured on a territory of 16,000
    patients). The setting is local to the transaction and put back after."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    previous = session.execute(text(
        "WITH previous AS MATERIALIZED (SELECT current_setting('jit') AS value) "
        "SELECT value, set_config('jit', 'off', true) FROM previous")).scalar()
    yield  # after an error the transaction is rolled back, and the setting with it
    session.execute(text("SELECT set_config('jit', :value, true)"), {"value": previous})


def compute(session: Session, scope: Scope, periods: Sequence[Period], *,
            by_territory: bool = False, now: datetime) -> dict[Key, Raw]:
    """The raw figures of each period (and territory, when grouped): six or seven statements
    whatever the size of the registry (two more on PostgreSQL, for its JIT setting). Keys are
    (index of the period in `periods`, territory id or None); a territory without any patient
    has no key."""
    with _without_jit(session):
        return _compute(session, scope, periods, by_territory=by_territory, now=now)


def _compute(session: Session, scope: Scope, periods: Sequence[Period], *,
             by_territory: bool, now: datetime) -> dict[Key, Raw]:
    period = _period_table(periods)
    found: dict[Key, Raw] = {}

    def raw(key: Key) -> Raw:
        return found.setdefault(key, Raw())

    snapshot_scope = Scope(scope.territory_id, scope.program_id, None, scope.caseload_of)
    for row in session.execute(snapshot_by_stratum(snapshot_scope, period, by_territory)):
        key = _key(row, by_territory)
        start = 2 if by_territory else 1
        raw(key).by_stratum[int(row[start])] = Snapshot(*map(int, row[start + 1:start + 6]))
    if scope.program_id is None:
        for row in session.execute(snapshot_of_registry(scope, period, by_territory)):
            start = 2 if by_territory else 1
            raw(_key(row, by_territory)).registry = Snapshot(*map(int, row[start:start + 5]))
    last = max(p.last for p in periods)
    for row in session.execute(transitions(scope, period, by_territory, last)):
        start = 2 if by_territory else 1
        raw(_key(row, by_territory)).transitions[int(row[start])] = (int(row[start + 1]),
                                                                     int(row[start + 2]))
    span = (min(p.starts_utc for p in periods), max(p.ends_utc for p in periods))
    for row in session.execute(appointments(scope, period, by_territory, now, span)):
        start = 2 if by_territory else 1
        raw(_key(row, by_territory)).appointments[bool(row[start])] = Outcomes(
            *map(int, row[start + 1:start + 4]))
    calendar = _calendar(periods)
    days = (min(p.first for p in periods), last)
    for row in session.execute(index_stays(scope, period, calendar, by_territory, days)):
        start = 2 if by_territory else 1
        raw(_key(row, by_territory)).stays[bool(row[start])] = IndexStays(
            *map(int, row[start + 1:start + 4]))
    for row in session.execute(plans_review_overdue(scope, period, by_territory)):
        start = 2 if by_territory else 1
        raw(_key(row, by_territory)).plans_review_overdue = int(row[start])
    return found
