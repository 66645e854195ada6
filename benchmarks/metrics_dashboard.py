"""Benchmark: the registry metrics dashboard on a generated registry, against its SQL floor.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coordinator_generator \\
        nice -n 10 .venv/bin/python benchmarks/metrics_dashboard.py [--repeat 3] \\
        [--territory DOUAISIS] [--first 2025-12-01 --last 2026-11-30] [--explain]

On DATABASE_URL (a registry made by `flask --app wsgi generate`, PostgreSQL), for (a) one
territory and one period and (b) every territory and the same period, it times
`metrics.services.dashboard(...)` (the figures with the previous period, the twelve months, the
territories compared and the drill-down) as a council (`exact=False`) and as an administrator
(`exact=True`): median and max of `--repeat` runs after one warm-up, the number of statements,
and the time of the service's statements per figure (each statement built by `figures` is
tagged with its builder's name; timed by SQLAlchemy's cursor events).

Then the floor: for each figure of ../shared/spec/metrics.md one hand-written PostgreSQL query
(text SQL) computing that figure for everything the dashboard shows (the 14 periods: current,
previous, twelve months; the current period for every territory, which is the comparison; the
drill-down reads the current period's cells), timed the same way; the ratio service/floor per
figure and in total. And the check: every exact count the service returns (result, previous,
trends, comparison) equals the floor's; a mismatch is printed and makes the exit status 1.

`--explain` prints `EXPLAIN (ANALYZE, BUFFERS)` of the service's slowest statement of each
figure. `--stored` first runs the nightly refresh of the counts kept for closed periods
(`metrics.stored.refresh`, timed, committed), so that the dashboards timed then read them: give
a closed calendar period (`--first 2025-01-01 --last 2025-12-31`); the check then compares the
kept counts with the floor's. Prints markdown table rows (for docs/performance.md).
"""

# ruff: noqa: S608, RUF001  (the floors: text SQL built from constants; the ratio sign)
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select, text

from coordinator import create_app
from coordinator.extensions import db
from coordinator.metrics import figures, services, stored
from coordinator.metrics.periods import Period, days_of, midnight_utc
from coordinator.strata.models import Stratum, Territory

BUILDERS = ("snapshot_by_stratum", "snapshot_of_registry", "transitions", "appointments",
            "index_stays", "plans_review_overdue")
# Which service statement computes which figures (the floors below, one query each).
FIGURES_OF = {
    "snapshot_by_stratum": ("population_by_stratum",),
    "snapshot_of_registry": ("population", "care_plan_coverage", "flu_vaccination_65"),
    "transitions": ("transitions",),
    "appointments": ("no_show_followed_vs_not",),
    "index_stays": ("readmission_30d_followed_vs_not", "followup_7d"),
    "plans_review_overdue": ("plans_review_overdue",),
}
AIMS = {"territory": 1.0, "all": 3.0}


# -- Instrumenting the service ----------------------------------------------------------------

class Recorder:
    """Statement times by label (the `figures` builder, else "other")."""

    def __init__(self) -> None:
        self.times: dict[str, float] = defaultdict(float)
        self.slowest: dict[str, tuple[float, str, Any]] = {}
        self.count = 0
        self._started: list[float] = []

    def before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._started.append(time.perf_counter())

    def after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        elapsed = time.perf_counter() - self._started.pop()
        label = context.execution_options.get("bench_label", "other") if context else "other"
        self.times[label] += elapsed
        self.count += 1
        if label != "other" and elapsed > self.slowest.get(label, (0.0,))[0]:
            self.slowest[label] = (elapsed, statement, parameters)

    def reset(self) -> None:
        self.times.clear()
        self.count = 0


def tag_builders() -> None:
    """Each statement built by a `figures` builder carries its name (execution option)."""
    for name in BUILDERS:
        builder = getattr(figures, name)

        def tagged(*args: Any, _builder: Callable = builder, _name: str = name, **kwargs: Any):
            return _builder(*args, **kwargs).execution_options(bench_label=_name)
        setattr(figures, name, tagged)


@contextmanager
def recording(recorder: Recorder) -> Iterator[None]:
    engine = db.engine
    event.listen(engine, "before_cursor_execute", recorder.before)
    event.listen(engine, "after_cursor_execute", recorder.after)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", recorder.before)
        event.remove(engine, "after_cursor_execute", recorder.after)


# -- The floor: one hand-written query per figure ---------------------------------------------

def _ts(instant: datetime) -> str:
    return f"TIMESTAMP '{instant.astimezone(UTC).replace(tzinfo=None).isoformat(sep=' ')}'"


def period_values(periods: list[Period], all_territories: list[bool]) -> str:
    """The periods as a VALUES table: k, bounds, and `all_t` (every territory, or only the
    selection's)."""
    rows = ", ".join(
        f"({k}, DATE '{p.first}', DATE '{p.last}', {_ts(p.starts_utc)}, {_ts(p.ends_utc)}, "
        f"DATE '{p.older_born_by}', DATE '{p.flu_window_first}', {str(every).upper()})"
        for k, (p, every) in enumerate(zip(periods, all_territories, strict=True)))
    return (f"period (k, first_day, last_day, starts_at, ends_at, older_born_by, flu_from, "
            f"all_t) AS (VALUES {rows})")


def calendar_values(periods: list[Period]) -> str:
    rows = ", ".join(f"(DATE '{day}', {_ts(midnight_utc(day))}, "
                     f"{_ts(midnight_utc(day + timedelta(days=figures.FOLLOW_UP_DAYS + 1)))})"
                     for day in days_of(periods))
    return f"calendar (day, starts_at, ends_at) AS (VALUES {rows})"


SCOPE = "p.merged_into_id IS NULL AND (per.all_t OR p.territory_id = :territory)"
ALIVE = ("p.birth_date <= per.last_day AND (p.deceased_date IS NULL "
         "OR p.deceased_date > per.last_day)")
FOLLOWED = """followed AS (
    SELECT DISTINCT per.k, cp.patient_id FROM period per
    JOIN care_plan cp ON cp.activated_on IS NOT NULL AND cp.activated_on <= per.last_day
     AND (cp.closed_on IS NULL OR (cp.closed_on > per.first_day
                                   AND cp.closed_on > cp.activated_on)))"""

FLOORS: dict[str, str] = {
    # (k, territory, stratum, count)
    "population_by_stratum": f"""
WITH {{period}}
SELECT per.k, p.territory_id, a.stratum_id, count(*)
FROM period per
JOIN stratum_assignment a ON a.stratum_id IS NOT NULL AND a.effective_date <= per.last_day
 AND (a.end_date IS NULL OR a.end_date >= per.last_day)
JOIN patient p ON p.id = a.patient_id
WHERE {SCOPE} AND {ALIVE}
GROUP BY 1, 2, 3""",
    # (k, territory, count)
    "population": f"""
WITH {{period}}
SELECT per.k, p.territory_id, count(*)
FROM period per JOIN patient p ON {ALIVE}
WHERE {SCOPE}
GROUP BY 1, 2""",
    # (k, territory, eligible, with an active plan)
    "care_plan_coverage": f"""
WITH {{period}},
eligible AS (
    SELECT DISTINCT per.k, a.patient_id FROM period per
    JOIN stratum_assignment a ON a.stratum_id IS NOT NULL AND a.effective_date <= per.last_day
     AND (a.end_date IS NULL OR a.end_date >= per.last_day)
    JOIN stratum s ON s.id = a.stratum_id AND s.requires_care_plan),
active AS (
    SELECT DISTINCT per.k, cp.patient_id FROM period per
    JOIN care_plan cp ON cp.activated_on IS NOT NULL AND cp.activated_on <= per.last_day
     AND (cp.closed_on IS NULL OR cp.closed_on > per.last_day))
SELECT e.k, p.territory_id, count(*), count(ac.patient_id)
FROM eligible e JOIN period per ON per.k = e.k
JOIN patient p ON p.id = e.patient_id
LEFT JOIN active ac ON ac.k = e.k AND ac.patient_id = e.patient_id
WHERE {SCOPE} AND {ALIVE}
GROUP BY 1, 2""",
    # (k, territory, older, older vaccinated)
    "flu_vaccination_65": f"""
WITH {{period}},
vaccinated AS (
    SELECT DISTINCT per.k, e.patient_id FROM period per
    JOIN clinical_event e ON e.event_type = 'immunization' AND e.code = 'influenza'
     AND e.occurred_on >= per.flu_from AND e.occurred_on <= per.last_day)
SELECT per.k, p.territory_id, count(*), count(v.patient_id)
FROM period per JOIN patient p ON p.birth_date <= per.older_born_by
 AND (p.deceased_date IS NULL OR p.deceased_date > per.last_day)
LEFT JOIN vaccinated v ON v.k = per.k AND v.patient_id = p.id
WHERE {SCOPE}
GROUP BY 1, 2""",
    # (k, territory, program, up, down)
    "transitions": f"""
WITH {{period}},
changes AS (
    SELECT a.patient_id, a.program_id, a.effective_date, a.stratum_id,
           lag(a.stratum_id) OVER (PARTITION BY a.patient_id, a.program_id
                                   ORDER BY a.effective_date) AS previous_id
    FROM stratum_assignment a WHERE a.effective_date <= :last)
SELECT per.k, p.territory_id, c.program_id,
       count(*) FILTER (WHERE n.level > o.level), count(*) FILTER (WHERE n.level < o.level)
FROM changes c
JOIN period per ON c.effective_date >= per.first_day AND c.effective_date <= per.last_day
JOIN stratum n ON n.id = c.stratum_id
JOIN stratum o ON o.id = c.previous_id
JOIN patient p ON p.id = c.patient_id
WHERE {SCOPE}
GROUP BY 1, 2, 3""",
    # (k, territory, followed, attended, no_show, outcome missing)
    "no_show_followed_vs_not": f"""
WITH {{period}}, {FOLLOWED}
SELECT per.k, p.territory_id, f.patient_id IS NOT NULL,
       count(*) FILTER (WHERE ap.status = 'attended'),
       count(*) FILTER (WHERE ap.status = 'no_show'),
       count(*) FILTER (WHERE ap.status = 'scheduled' AND ap.ends_at < :now)
FROM appointment ap
JOIN period per ON ap.starts_at >= per.starts_at AND ap.starts_at < per.ends_at
JOIN patient p ON p.id = ap.patient_id
LEFT JOIN followed f ON f.k = per.k AND f.patient_id = ap.patient_id
WHERE ap.status IN ('attended', 'no_show', 'scheduled')
  AND ap.starts_at >= :low AND ap.starts_at < :high AND {SCOPE}
GROUP BY 1, 2, 3""",
    # (k, territory, followed, index stays, readmitted)
    "readmission_30d_followed_vs_not": f"""
WITH {{period}}, {FOLLOWED}
SELECT per.k, p.territory_id, f.patient_id IS NOT NULL, count(*),
       count(s.readmitted_by_id)
FROM stay s
JOIN period per ON s.discharged_on >= per.first_day AND s.discharged_on <= per.last_day
JOIN patient p ON p.id = s.patient_id
LEFT JOIN followed f ON f.k = per.k AND f.patient_id = s.patient_id
WHERE s.is_index_stay AND s.discharged_on >= :first AND s.discharged_on <= :last AND {SCOPE}
GROUP BY 1, 2, 3""",
    # (k, territory, index stays, followed up)
    "followup_7d": f"""
WITH {{period}}, {{calendar}}
SELECT per.k, p.territory_id, count(*),
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM appointment v WHERE v.patient_id = s.patient_id
              AND v.status = 'attended' AND v.starts_at >= cal.starts_at
              AND v.starts_at < cal.ends_at))
FROM stay s
JOIN period per ON s.discharged_on >= per.first_day AND s.discharged_on <= per.last_day
JOIN calendar cal ON cal.day = s.discharged_on
JOIN patient p ON p.id = s.patient_id
WHERE s.is_index_stay AND s.discharged_on >= :first AND s.discharged_on <= :last AND {SCOPE}
GROUP BY 1, 2""",
    # (k, territory, count)
    "plans_review_overdue": f"""
WITH {{period}}
SELECT per.k, p.territory_id, count(*)
FROM care_plan cp
JOIN period per ON cp.activated_on IS NOT NULL AND cp.activated_on <= per.last_day
 AND (cp.closed_on IS NULL OR cp.closed_on > per.last_day) AND cp.review_date < per.last_day
JOIN patient p ON p.id = cp.patient_id
WHERE {SCOPE}
GROUP BY 1, 2""",
}


def dashboard_periods(selection: services.Selection) -> tuple[list[Period], list[bool]]:
    """What the dashboard computes: k 0 the period (every territory: the comparison, and the
    selection's territory's row), k 1 the previous period, k 2..13 the twelve months."""
    period = selection.period
    periods = [period, period.previous(), *period.trend_months()]
    every = selection.territory is None
    return periods, [True] + [every] * (len(periods) - 1)


def run_floors(session, selection: services.Selection, now: datetime
               ) -> tuple[dict[str, float], dict[str, list]]:
    periods, every = dashboard_periods(selection)
    sql_period, sql_calendar = period_values(periods, every), calendar_values(periods)
    params = {"territory": selection.territory.id if selection.territory else None,
              "now": now.astimezone(UTC).replace(tzinfo=None),
              "first": min(p.first for p in periods), "last": max(p.last for p in periods),
              "low": min(p.starts_utc for p in periods).astimezone(UTC).replace(tzinfo=None),
              "high": max(p.ends_utc for p in periods).astimezone(UTC).replace(tzinfo=None)}
    times, rows = {}, {}
    session.execute(text("SET LOCAL jit = off"))
    for name, sql in FLOORS.items():
        statement = text(sql.format(period=sql_period, calendar=sql_calendar))
        started = time.perf_counter()
        rows[name] = [tuple(row) for row in session.execute(statement, params)]
        times[name] = time.perf_counter() - started
    return times, rows


# -- Floor numbers as the service's cells -----------------------------------------------------

def floor_cells(rows: dict[str, list], k: int, territory: int | None,
                strata: dict[int, str], programs: list[int]) -> dict[str, int]:
    """The exact cells of `MetricsResult.cells()` (no program asked) for period k and one
    territory (None: summed over every territory)."""
    def mine(name: str) -> Iterator[tuple]:
        for row in rows[name]:
            if row[0] == k and (territory is None or row[1] == territory):
                yield row[2:]

    cells: dict[str, int] = defaultdict(int)
    for (n,) in mine("population"):
        cells["population.count"] += n
    for code in strata.values():
        cells[f"population.by_stratum.{code}"] += 0
    for stratum_id, n in mine("population_by_stratum"):
        cells[f"population.by_stratum.{strata[stratum_id]}"] += n
    cells["transitions.up"] += 0
    cells["transitions.down"] += 0
    for program_id, up, down in mine("transitions"):
        if program_id in programs:
            cells["transitions.up"] += up
            cells["transitions.down"] += down
    for followed, attended, no_show, missing in mine("no_show_followed_vs_not"):
        side = "followed" if followed else "not_followed"
        for prefix in ("no_show", f"followed_vs_not.{side}.no_show"):
            cells[f"{prefix}.attended"] += attended
            cells[f"{prefix}.no_show"] += no_show
            cells[f"{prefix}.outcome_missing"] += missing
    for side in ("followed", "not_followed"):
        for name in ("attended", "no_show", "outcome_missing"):
            cells[f"followed_vs_not.{side}.no_show.{name}"] += 0
        for name in ("index_stays", "readmitted"):
            cells[f"followed_vs_not.{side}.readmission_30d.{name}"] += 0
    for followed, index, readmitted in mine("readmission_30d_followed_vs_not"):
        side = "followed" if followed else "not_followed"
        for prefix in ("readmission_30d", f"followed_vs_not.{side}.readmission_30d"):
            cells[f"{prefix}.index_stays"] += index
            cells[f"{prefix}.readmitted"] += readmitted
    for index, followed_up in mine("followup_7d"):
        cells["followup_7d.index_stays"] += index
        cells["followup_7d.followed_up"] += followed_up
    for eligible, with_plan in mine("care_plan_coverage"):
        cells["care_plan_coverage.eligible"] += eligible
        cells["care_plan_coverage.with_active_plan"] += with_plan
    for older, vaccinated in mine("flu_vaccination_65"):
        cells["indicators.flu_vaccination_65.denominator"] += older
        cells["indicators.flu_vaccination_65.numerator"] += vaccinated
    for (n,) in mine("plans_review_overdue"):
        cells["plans_review_overdue"] += n
    return dict(cells)


def service_cells(result) -> dict[str, int]:
    """The exact counts of a `MetricsResult` (rates are computed from them)."""
    return {path: item.value for path, item in result.cells()
            if not path.endswith(".rate") and item.value is not None}


def compare(label: str, service: dict[str, int], floor: dict[str, int]) -> list[str]:
    problems = []
    for path in sorted(set(service) | set(floor)):
        if service.get(path, 0) != floor.get(path, 0):
            problems.append(f"{label}: {path} service {service.get(path)} floor {floor.get(path)}")
    return problems


def check(figures_: Any, rows: dict[str, list], selection: services.Selection,
          territories: dict[str, int], strata: dict[int, str], programs: list[int]
          ) -> list[str]:
    own = selection.territory.id if selection.territory else None
    problems = compare("result", service_cells(figures_.result),
                       floor_cells(rows, 0, own, strata, programs))
    problems += compare("previous", service_cells(figures_.result.previous),
                        floor_cells(rows, 1, own, strata, programs))
    for index, month in enumerate(figures_.trends):
        problems += compare(f"trend {month.period}", service_cells(month),
                            floor_cells(rows, 2 + index, own, strata, programs))
    for result in figures_.comparison:
        problems += compare(f"comparison {result.territory}", service_cells(result),
                            floor_cells(rows, 0, territories[result.territory], strata,
                                        programs))
    return problems


# -- Running ----------------------------------------------------------------------------------

def timed_dashboard(session, selection, exact: bool, now: datetime, repeat: int,
                    recorder: Recorder, warmup: bool = True) -> dict[str, Any]:
    if warmup:
        services.dashboard(session, selection, exact=exact, now=now)
        session.rollback()
    walls, per_label, counts = [], defaultdict(list), []
    found = None
    for _ in range(repeat):
        recorder.reset()
        started = time.perf_counter()
        found = services.dashboard(session, selection, exact=exact, now=now)
        walls.append(time.perf_counter() - started)
        counts.append(recorder.count)
        for label, seconds in recorder.times.items():
            per_label[label].append(seconds)
        session.rollback()
    return {"walls": walls, "per_label": per_label, "statements": counts[-1], "figures": found}


def explain(session, recorder: Recorder) -> None:
    for label, (seconds, statement, parameters) in sorted(recorder.slowest.items(),
                                                          key=lambda item: -item[1][0]):
        print(f"\n### EXPLAIN (ANALYZE, BUFFERS) {label} ({seconds:.2f} s)\n```")
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            for (line,) in cursor.fetchall():
                print(line)
        print("```")
        session.rollback()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--territory", default="DOUAISIS")
    parser.add_argument("--first", type=date.fromisoformat, default=date(2025, 12, 1))
    parser.add_argument("--last", type=date.fromisoformat, default=date(2026, 11, 30))
    parser.add_argument("--now", default="2026-12-02T12:00:00+00:00",
                        help="the instant of `outcome_missing` (default: the generator's day)")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--only", choices=("territory", "all"))
    parser.add_argument("--roles", default="council,administrator",
                        help="which dashboards to time (default both)")
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--stored", action="store_true",
                        help="refresh the kept counts first; the dashboards then read them")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit("Set DATABASE_URL to a generated PostgreSQL registry.")
    now = datetime.fromisoformat(args.now)
    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url})
    tag_builders()
    recorder = Recorder()
    problems: list[str] = []
    with app.app_context():
        session = db.session
        territories = dict(session.execute(select(Territory.code, Territory.id)).all())
        strata = dict(session.execute(select(Stratum.id, Stratum.code)).all())
        programs = list(session.scalars(select(Stratum.program_id).distinct()))
        counts = {table: session.scalar(text(f"SELECT count(*) FROM {table}"))
                  for table in ("patient", "appointment", "stay")}
        print(f"PostgreSQL {session.scalar(text('SHOW server_version'))}, "
              f"{counts['patient']:,} patients, {counts['appointment']:,} appointments, "
              f"{counts['stay']:,} stays; load average {os.getloadavg()}", file=sys.stderr)
        session.rollback()
        if args.stored:
            started = time.perf_counter()
            rows = stored.refresh(session, now)
            session.commit()
            print(f"\nrefresh of the kept counts (`metrics.stored.refresh`): "
                  f"{time.perf_counter() - started:.1f} s, {rows:,} rows, "
                  f"{len(stored.periods_kept(now.date()))} periods × "
                  f"{1 + len(programs)} scopes; load {os.getloadavg()[0]:.1f}", flush=True)
        cases = [("territory", args.territory), ("all", None)]
        with recording(recorder):
            for case_name, code in cases:
                if args.only and case_name != args.only:
                    continue
                selection = services.select_figures(session, first=args.first, last=args.last,
                                                    territory=code)
                what = f"{code or 'all territories'}, {selection.period}"
                runs = {}
                roles = args.roles.split(",")
                for exact in [e for e, r in ((False, "council"), (True, "administrator"))
                              if r in roles or e]:
                    runs[exact] = timed_dashboard(session, selection, exact, now, args.repeat,
                                                  recorder, warmup=not args.no_warmup)
                    walls = runs[exact]["walls"]
                    as_of = runs[exact]["figures"].as_of
                    print(f"{what} exact={exact}: kept counts "
                          f"{'as of ' + str(as_of) if as_of else 'not read'}", file=sys.stderr)
                    print(f"{what} exact={exact}: median {median(walls):.2f} s, "
                          f"max {max(walls):.2f} s, {runs[exact]['statements']} statements; "
                          f"load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
                if args.explain:
                    explain(session, recorder)
                # The floor, after one warm-up (unless --no-warmup), the same number of runs.
                if not args.no_warmup:
                    run_floors(session, selection, now)
                    session.rollback()
                floor_runs: dict[str, list[float]] = defaultdict(list)
                for _ in range(args.repeat):
                    times, rows = run_floors(session, selection, now)
                    session.rollback()
                    for name, seconds in times.items():
                        floor_runs[name].append(seconds)
                found = check(runs[True]["figures"], rows, selection, territories, strata,
                              programs)
                problems += [f"{what}: {problem}" for problem in found]
                print_case(case_name, what, runs, floor_runs)
    print(f"\nchecked: {'no mismatch' if not problems else f'{len(problems)} mismatches'}")
    for problem in problems[:60]:
        print(f"MISMATCH {problem}")
    return 1 if problems else 0


def print_case(case_name: str, what: str, runs: dict, floor_runs: dict) -> None:
    print(f"\n**{what}** (aim ≤ {AIMS[case_name]:.0f} s)\n")
    print("| dashboard | median | max | statements |\n|---|---:|---:|---:|")
    for exact, role in ((False, "council (exact=False)"),
                        (True, "administrator (exact=True)")):
        if exact not in runs:
            continue
        walls = runs[exact]["walls"]
        print(f"| {role} | {median(walls):.2f} s | {max(walls):.2f} s | "
              f"{runs[exact]['statements']} |")
    print("\n| service statement (4 per dashboard) | figures | service (exact) | "
          "floor (one query each) | ratio |\n|---|---|---:|---:|---:|")
    total_service = total_floor = 0.0
    per_label = runs[True]["per_label"]
    for label in BUILDERS:
        service_time = median(per_label.get(label, []))
        floor_time = sum(median(floor_runs[name]) for name in FIGURES_OF[label])
        total_service += service_time
        total_floor += floor_time
        ratio = service_time / floor_time if floor_time else float("nan")
        print(f"| `{label}` | {', '.join(FIGURES_OF[label])} | {service_time:.2f} s | "
              f"{floor_time:.2f} s | {ratio:.2f}× |")
    other = median(per_label.get("other", []))
    print(f"| other statements (reference, targets, JIT setting) | | {other:.2f} s | | |")
    print(f"| **all statements** | | **{total_service + other:.2f} s** | "
          f"**{total_floor:.2f} s** | **{(total_service + other) / total_floor:.2f}×** |")
    print(f"| whole `dashboard()` (median wall) | | {median(runs[True]['walls']):.2f} s "
          f"| | {median(runs[True]['walls']) / total_floor:.2f}× |")
    print("\n| floor query | median | max |\n|---|---:|---:|")
    for name, values in floor_runs.items():
        print(f"| {name} | {median(values):.2f} s | {max(values):.2f} s |")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
