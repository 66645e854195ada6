"""30-day readmission flags of the stays, in SQL (metrics.md, readmission_30d, to the letter).

- An **index stay** is a discharged stay, not cancelled, whose discharge destination is neither
  `death` nor `transfer` (a discharge without a destination is an index stay: its destination
  is neither).
- An index stay S is **readmitted** by another non-cancelled stay R of the same patient when R
  is an `emergency` admission, `R.admitted_at >= S.discharged_at` and the local days
  (Europe/Paris) of R's admission and S's discharge are 0 to 30 days apart. Planned and transfer
  admissions never readmit; a readmission can itself be an index stay; R may still be open.
- `readmitted_by_id` of S: the first such R (earliest admission, then lowest id).
  `readmission_of_id` of R: the index stay it readmits, the most recent one when several
  qualify (latest discharge, then highest id). A cancelled stay gets neither flag and counts
  for no other stay.

`is_index_stay` depends on the stay alone: it is a stored generated column (migration 0022),
computed by the database on every write, on SQLite and PostgreSQL alike.
`recompute(session, patient_ids)` sets the two links of every stay of those patients (None:
every stay) with one UPDATE per batch of 1,000 patients, whose values are correlated
subqueries on the same table (each a probe of the `(patient_id, admitted_at)` index): no stay
is loaded into Python, and only the stays whose links change are written.

Local days. The instants are stored as naive UTC; the window counts Europe/Paris days. SQLite
has no time zones (its 'localtime' is the server process's zone), and PostgreSQL's
`AT TIME ZONE 'Europe/Paris'` has no SQLite twin short of a Python function registered on
every connection or the EU summer-time rule written out in SQL (wrong before 1996 and the day
the rule changes). So the days are stored: `Stay.admitted_on` / `Stay.discharged_on`
(migration 0010), set by the model whenever `admitted_at` / `discharged_at` is assigned, with
zoneinfo — the calendar `core.time` uses everywhere else. They are the same on both databases,
keep the window a plain indexable comparison, and serve the LACE length of stay too. The only
SQL that differs by database is adding days to a date (`days_after`). A writer that bypasses
the ORM (a bulk `insert()` / `update()` of `admitted_at`) must set the days itself, as
`benchmarks/readmissions.py` does.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    FromClause,
    Integer,
    MetaData,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from coordinator.stays.models import AdmissionMode, Stay

WINDOW_DAYS = 30
# Patients per UPDATE when a list is given (the IN list stays well under every bind limit).
BATCH = 1000
# Above this many patients, PostgreSQL runs the recompute without JIT compilation (_no_jit).
JIT_OFF_ABOVE = 100
DERIVED = ("is_index_stay", "readmission_of_id", "readmitted_by_id")


class days_after(FunctionElement):
    """`day + days` for a DATE column and a constant number of days, on SQLite (ISO text:
    `date(day, '+30 days')`) and PostgreSQL (`day + 30`)."""

    type = Date()
    inherit_cache = True
    name = "days_after"

    _traverse_internals = [*FunctionElement._traverse_internals,
                           ("days", InternalTraversal.dp_plain_obj)]

    def __init__(self, day: ColumnElement[Any], days: int):
        self.days = int(days)
        super().__init__(day)


@compiles(days_after)
def _days_after_default(element: days_after, compiler: SQLCompiler, **kw: Any) -> str:
    (day,) = list(element.clauses)
    return f"({compiler.process(day, **kw)} + {element.days:d})"


@compiles(days_after, "sqlite")
def _days_after_sqlite(element: days_after, compiler: SQLCompiler, **kw: Any) -> str:
    (day,) = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '{element.days:+d} days')"


def readmission_condition(index: FromClause, readmission: FromClause) -> ColumnElement[bool]:
    """Whether the row `readmission` readmits the row `index` (both aliases of `stay`), given
    that `index` is an index stay."""
    return and_(
        readmission.c.patient_id == index.c.patient_id,
        readmission.c.id != index.c.id,
        readmission.c.cancelled_at.is_(None),
        readmission.c.admission_mode == AdmissionMode.EMERGENCY.value,
        readmission.c.admitted_at >= index.c.discharged_at,
        readmission.c.admitted_on <= days_after(index.c.discharged_on, WINDOW_DAYS),
    )


def _flags(stay: FromClause) -> tuple[ColumnElement[Any], ColumnElement[Any],
                                     ColumnElement[Any]]:
    """The three flags a row of `stay` (the table or an alias) should have, as SQL expressions
    correlated to it: is_index_stay, readmitted_by_id, readmission_of_id. Whether a stay is an
    index stay is the generated column `stay.is_index_stay`, which the database keeps on every
    write from its one definition (`models.IS_INDEX_STAY_SQL`)."""
    other = Stay.__table__.alias("other")

    first_readmission = (
        select(other.c.id)
        .where(readmission_condition(stay, other))
        .order_by(other.c.admitted_at, other.c.id)
        .limit(1)
        .scalar_subquery()
    )
    readmitted_index = (
        select(other.c.id)
        .where(other.c.is_index_stay.is_(True), readmission_condition(other, stay))
        .order_by(other.c.discharged_at.desc(), other.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    is_index = stay.c.is_index_stay.is_(True)
    may_readmit = and_(stay.c.cancelled_at.is_(None),
                       stay.c.admission_mode == AdmissionMode.EMERGENCY.value)
    return (case((is_index, True), else_=False),
            case((is_index, first_readmission), else_=None),
            case((may_readmit, readmitted_index), else_=None))


def flags_query(patient_ids: Collection[int] | None = None) -> Select[Any]:
    """The flags the stays of these patients (None: every stay) should have: rows of
    (stay_id, is_index_stay, readmitted_by_id, readmission_of_id). Public so that a check or a
    report can compare them with what is stored."""
    stay = Stay.__table__.alias("s")
    is_index, readmitted_by, readmission_of = _flags(stay)
    query = select(stay.c.id.label("stay_id"), is_index.label("is_index_stay"),
                   readmitted_by.label("readmitted_by_id"),
                   readmission_of.label("readmission_of_id"))
    if patient_ids is not None:
        query = query.where(stay.c.patient_id.in_(list(patient_ids)))
    return query


@functools.cache
def _statement() -> Update:
    """One UPDATE, in the table's order, of the stays of some patients whose links differ
    from what they should be: rows already right are not written (on PostgreSQL a row
    written is a new row version, and new index entries unless the page has room for a
    heap-only update). `is_index_stay` is not written: the database keeps it (a generated
    column, migration 0022). The condition tests the readmitted-by link first: OR stops at
    its first true operand."""
    stay = Stay.__table__
    _, readmitted_by, readmission_of = _flags(stay)
    statement = (
        update(stay)
        .where(or_(stay.c.readmitted_by_id.is_distinct_from(readmitted_by),
                   stay.c.readmission_of_id.is_distinct_from(readmission_of)))
        .values(readmitted_by_id=readmitted_by, readmission_of_id=readmission_of,
                # derived columns: the stay itself is not changed (no `onupdate` of updated_at)
                updated_at=stay.c.updated_at)
    )
    # the patients' ids, bound at each call: the statement is built once
    return statement.where(stay.c.patient_id.in_(bindparam("patient_ids", expanding=True)))


# Every stay at once: the links that change, computed once into a temporary table, then
# written by id. One UPDATE computing and comparing in its WHERE would evaluate the
# subqueries of each changed stay twice (WHERE, then SET): on 2 million stays after a bulk
# load, 838,652 stays to write, that is 47 s against 29 s (docs/performance.md).
_LINKS = Table("readmission_links", MetaData(),
               Column("id", Integer, nullable=False),
               Column("readmitted_by_id", Integer),
               Column("readmission_of_id", Integer),
               prefixes=["TEMPORARY"])


def _recompute_every_stay(session: Session) -> None:
    stay = Stay.__table__
    _, readmitted_by, readmission_of = _flags(stay)
    computed = (select(stay.c.id, stay.c.readmitted_by_id.label("old_by"),
                       stay.c.readmission_of_id.label("old_of"),
                       readmitted_by.label("new_by"), readmission_of.label("new_of"))
                .offset(0)  # computed once per stay: not merged into the outer WHERE
                .subquery("computed"))
    changed = (select(computed.c.id, computed.c.new_by, computed.c.new_of)
               .where(or_(computed.c.old_by.is_distinct_from(computed.c.new_by),
                          computed.c.old_of.is_distinct_from(computed.c.new_of))))
    connection = session.connection()
    _LINKS.drop(connection, checkfirst=True)
    _LINKS.create(connection)
    try:
        session.execute(_LINKS.insert().from_select(
            ["id", "readmitted_by_id", "readmission_of_id"], changed))
        if connection.dialect.name == "postgresql":
            session.execute(text("ANALYZE readmission_links"))
        session.execute(
            update(stay).where(stay.c.id == _LINKS.c.id)
            .values(readmitted_by_id=_LINKS.c.readmitted_by_id,
                    readmission_of_id=_LINKS.c.readmission_of_id,
                    updated_at=stay.c.updated_at))
    finally:
        _LINKS.drop(connection)


def _batches(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield list(ids[start:start + BATCH])


def recompute(session: Session, patient_ids: Collection[int] | None) -> None:
    """Set `readmission_of_id` and `readmitted_by_id` of every stay of these patients (None: of
    every patient) from their stays as they are in the session (`is_index_stay` is the
    database's, written with the stay)."""
    session.flush()
    with _no_jit(session, large=patient_ids is None or len(patient_ids) > JIT_OFF_ABOVE):
        if patient_ids is None:
            _recompute_every_stay(session)
        else:
            for batch in _batches(sorted(set(patient_ids))):
                session.execute(_statement(), {"patient_ids": batch})
    _expire_loaded(session, None if patient_ids is None else set(patient_ids))


@contextmanager
def _no_jit(session: Session, *, large: bool) -> Iterator[None]:
    """PostgreSQL, for a large recompute: without JIT compilation. The planner's estimate of
    the correlated subqueries crosses `jit_above_cost` from a few thousand stays on, and
    compiling the statement then takes seconds (2.7 s measured on 20,000 stays) that the
    index probes it runs never win back. The setting is put back after the statement."""
    if not large or session.get_bind().dialect.name != "postgresql":
        yield
        return
    previous = session.execute(text("SELECT current_setting('jit')")).scalar()
    session.execute(text("SELECT set_config('jit', 'off', true)"))
    yield  # after an error the transaction is rolled back, and the setting with it
    session.execute(text("SELECT set_config('jit', :value, true)"), {"value": previous})


def _expire_loaded(session: Session, patient_ids: set[int] | None) -> None:
    """The stays already loaded read their new flags on next access (no query until then)."""
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Stay) and (patient_ids is None
                                           or instance.patient_id in patient_ids):
            session.expire(instance, list(DERIVED))
