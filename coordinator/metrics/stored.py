"""Stored counts: the dashboard's figures of closed calendar periods, counted once a day.

At the FHF experiment's scale (1.5 million patients, 20 million appointments) counting the
figures of one territory and one year takes its SQL floor, over a minute (docs/performance.md):
far from the second a council's page may take. Most of what councils read are closed calendar
periods (the default is the last whole month; a month, a quarter or a year; the previous period
of a whole-month period is the same number of calendar months before; the trends are calendar
months), whose counts change only when a record of the past changes. So:

- `refresh` (the daily job `refresh_metric_counts`) counts, with `figures.compute` itself, for
  the whole registry and for each program, every territory's raw counts of each closed calendar
  month, quarter and year since the first of January `HISTORY_YEARS` years ago (`periods_kept`),
  and writes them in place of the previous ones, in one transaction;
- `counts` is `figures.compute` for the dashboard: the periods whose counts are kept are read
  (the selection's territory's, or every territory's summed as `figures.total` does, or each
  territory's when grouped), the others counted now; with the time of the oldest kept counts
  read, which the page prints.

A stratum's selection and a caseload (exact, case managers) are always counted now, and so is
a period that is not closed, or custom, or older. The API (`/api/v1/metrics`, whose response
has no place to say when its figures were counted) and the target alerts count now. The figures
a refresh keeps are those `figures.compute` gives at that time (tests/metrics/test_stored.py:
after every kind of change and a refresh, the dashboard's figures are those counted now).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from coordinator.core.time import PARIS
from coordinator.metrics import figures
from coordinator.metrics.models import StoredCounts
from coordinator.metrics.periods import Period, add_months, month_end
from coordinator.strata.models import Program

HISTORY_YEARS = 3  # the closed periods since the first of January three years ago
PERIODS_PER_COUNT = 12  # periods counted by one set of statements in a refresh


def scope_key(program_id: int | None) -> str:
    """The kept scope of a program's figures ("P<id>"), or of the whole registry ("")."""
    return "" if program_id is None else f"P{program_id}"


def kept_scope(scope: figures.Scope) -> str | None:
    """The kept scope whose counts serve `scope`, or None when they are always counted now (a
    stratum's, a caseload's)."""
    if scope.caseload_of is not None or scope.stratum_id is not None:
        return None
    return scope_key(scope.program_id)


def periods_kept(today: date) -> list[Period]:
    """The closed calendar months, quarters and years (ended before `today`'s month, for the
    months and quarters; before `today`'s year, for the years) since the first of January
    `HISTORY_YEARS` years before `today`'s year, oldest first by kind."""
    start = date(today.year - HISTORY_YEARS, 1, 1)
    this_month = today.replace(day=1)
    months = []
    first = start
    while first < this_month:
        months.append(Period(first, month_end(first)))
        first = add_months(first, 1)
    quarters = [Period(m.first, month_end(add_months(m.first, 2))) for m in months
                if m.first.month % 3 == 1 and add_months(m.first, 3) <= this_month]
    years = [Period(date(year, 1, 1), date(year, 12, 31))
             for year in range(start.year, today.year)]
    return [*months, *quarters, *years]


def refresh(session: Session, now: datetime) -> int:
    """Count again, as of `now`, the kept periods of the whole registry and of each program in
    every territory, and keep them in place of the previous ones (in the caller's
    transaction). Returns the number of rows kept."""
    periods = periods_kept(now.astimezone(PARIS).date())
    programs: list[int | None] = [None, *session.scalars(select(Program.id)
                                                        .order_by(Program.id))]
    rows = []
    for program_id in programs:
        scope = figures.Scope(program_id=program_id)
        for start in range(0, len(periods), PERIODS_PER_COUNT):
            chunk = periods[start:start + PERIODS_PER_COUNT]
            found = figures.compute(session, scope, chunk, by_territory=True, now=now)
            rows.extend({"scope": scope_key(program_id), "first_day": chunk[index].first,
                         "last_day": chunk[index].last, "territory_id": territory_id,
                         "counts": figures.raw_to_json(raw), "computed_at": now}
                        for (index, territory_id), raw in found.items())
    session.execute(delete(StoredCounts))
    if rows:
        session.execute(insert(StoredCounts), rows)
    return len(rows)


@dataclass(frozen=True)
class Counted:
    """What `figures.compute` gives (`raws`), and since when: the time of the oldest kept
    counts read (`as_of`), None when everything was counted now."""

    raws: dict[figures.Key, figures.Raw]
    as_of: datetime | None


def oldest(times: Iterable[datetime | None]) -> datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def counts(session: Session, scope: figures.Scope, periods: Sequence[Period], *,
           by_territory: bool = False, now: datetime) -> Counted:
    """`figures.compute(session, scope, periods, by_territory=..., now=now)`, reading the
    periods whose counts are kept (one statement) and counting the others."""
    kept: dict[tuple[date, date], dict[int, tuple[figures.Raw, datetime]]] = {}
    key = kept_scope(scope)
    if key is not None and periods:
        wanted = {(p.first, p.last) for p in periods}
        for first, last, territory_id, data, computed_at in session.execute(
                select(StoredCounts.first_day, StoredCounts.last_day, StoredCounts.territory_id,
                       StoredCounts.counts, StoredCounts.computed_at)
                .where(StoredCounts.scope == key,
                       StoredCounts.first_day.in_(sorted({first for first, _ in wanted})),
                       StoredCounts.last_day.in_(sorted({last for _, last in wanted})))):
            if (first, last) in wanted:
                kept.setdefault((first, last), {})[territory_id] = (
                    figures.raw_from_json(data), computed_at)
    raws: dict[figures.Key, figures.Raw] = {}
    read: list[datetime] = []
    counted_now = [p for p in dict.fromkeys(periods) if (p.first, p.last) not in kept]
    live: dict[Period, dict[figures.Key, figures.Raw]] = {}
    if counted_now:
        for (at, territory), raw in figures.compute(session, scope, counted_now,
                                                    by_territory=by_territory,
                                                    now=now).items():
            live.setdefault(counted_now[at], {})[(at, territory)] = raw
    for index, period in enumerate(periods):
        territories = kept.get((period.first, period.last))
        if territories is None:
            raws.update({(index, territory): raw
                         for (_, territory), raw in live.get(period, {}).items()})
            continue
        read.extend(computed_at for _, computed_at in territories.values())
        if by_territory:
            raws.update({(index, territory): raw
                         for territory, (raw, _) in territories.items()})
        elif scope.territory_id is not None:
            if scope.territory_id in territories:
                raws[(index, None)] = territories[scope.territory_id][0]
        else:
            raws[(index, None)] = figures.total(raw for raw, _ in territories.values())
    return Counted(raws, oldest(read))
