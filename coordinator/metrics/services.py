"""Registry metrics, as defined in docs/metrics.md: one definition, computed in SQL.

- `registry_metrics`: every figure for a period and a selection (territory, program, stratum,
  a case manager's caseload), with the previous period of the same length if asked;
- `compare_territories`: the same for each territory (one grouped query per figure);
- `monthly_trends`: the same for each of the last twelve months (one grouped query per figure);
- `no_show_rates` / `no_show_rate`: the no-show rate per patient or provider (calendars).

The figures are computed by `figures` (SQL) and handed out as `results.MetricsResult`, exact for
case managers and administrators, with small cells withheld for councils (`exact=False`); who
reads what is decided by `coordinator.permissions` (the API asks it, then calls these).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError
from coordinator.core.i18n import in_reader_language
from coordinator.core.time import local_today, utcnow
from coordinator.metrics import figures, stored
from coordinator.metrics import targets as territory_targets
from coordinator.metrics.periods import Period, period_problems
from coordinator.metrics.results import (
    IndicatorRef,
    MetricsResult,
    ProgramRef,
    Reference,
    StratumRef,
    View,
    assemble,
)
from coordinator.metrics.tables import DrillDownRow, Figures
from coordinator.metrics.targets import indicator_label
from coordinator.patients.banner import RECENT_NO_SHOW_DAYS
from coordinator.patients.models import Patient
from coordinator.scheduling.models import Appointment, AppointmentStatus
from coordinator.strata import reference as strata_reference
from coordinator.strata.models import Program, ProgramIndicator, Stratum, Territory

# -- What is asked --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """A period and what to count in it. `territory` None: every territory; `program` None:
    the whole registry; `stratum` (of `program`); `caseload_of`: a case manager's patients."""

    period: Period
    territory: Territory | None = None
    program: Program | None = None
    stratum: Stratum | None = None
    caseload_of: User | None = None

    @property
    def scope(self) -> figures.Scope:
        return figures.Scope(self.territory.id if self.territory else None,
                             self.program.id if self.program else None,
                             self.stratum.id if self.stratum else None,
                             self.caseload_of)


def select_figures(session: Session, *, first: date | None, last: date | None,
                   territory: str | None = None, program: str | None = None,
                   stratum: str | None = None, caseload_of: User | None = None) -> Selection:
    """The selection asked by codes, checked: a period of at most five years ending after it
    starts, known codes, a stratum of the program (the program is the stratum's when only the
    stratum is given). Raises `ValidationError` naming each wrong parameter (`from`, `to`,
    `territory`, `program`, `stratum`)."""
    problems: dict[str, list] = {}
    if first is None:
        problems["from"] = [_l("Give the first day of the period.")]
    if last is None:
        problems["to"] = [_l("Give the last day of the period.")]
    problems.update(period_problems(first, last))
    found_territory = found_program = found_stratum = None
    if territory:
        found_territory = session.scalar(select(Territory).where(Territory.code == territory))
        if found_territory is None:
            problems["territory"] = [_l("Unknown territory %(code)s.", code=territory)]
    if program:
        found_program = session.scalar(select(Program).where(Program.code == program))
        if found_program is None:
            problems["program"] = [_l("Unknown program %(code)s.", code=program)]
    if stratum:
        found_stratum = session.scalar(select(Stratum).where(Stratum.code == stratum))
        if found_stratum is None:
            problems["stratum"] = [_l("Unknown stratum %(code)s.", code=stratum)]
        elif found_program is not None and found_stratum.program_id != found_program.id:
            problems["stratum"] = [_l("Stratum %(s)s is not a stratum of program %(p)s.",
                                      s=stratum, p=program)]
        elif found_program is None and "program" not in problems:
            found_program = session.get(Program, found_stratum.program_id)
    if problems:
        raise ValidationError(problems)
    assert first is not None and last is not None
    return Selection(Period(first, last), found_territory, found_program, found_stratum,
                     caseload_of)


# -- Reference data -------------------------------------------------------------------------------

def _reference(session: Session) -> Reference:
    """The programs and their strata (one statement)."""
    rows = session.execute(
        select(Program.id, Program.code, Stratum.id, Stratum.code, Stratum.level,
               Stratum.requires_care_plan)
        .outerjoin(Stratum, Stratum.program_id == Program.id)
        .order_by(Program.code, Stratum.level)).all()
    programs = {row[0]: ProgramRef(row[0], row[1]) for row in rows}
    return Reference(programs=tuple(programs.values()),
                     strata=tuple(StratumRef(row[2], row[3], row[4], bool(row[5]), row[0])
                                  for row in rows if row[2] is not None))


def targets(session: Session, selection: Selection) -> tuple[IndicatorRef, ...]:
    """The indicators of the selection with their effective targets (`metrics.targets`): with
    a program, its indicators with the territory's own target where the selection's territory
    set one, else the program's; without a program, the built-in ones with their default
    targets (a territory's targets are per program)."""
    if selection.program is None:
        return tuple(IndicatorRef(code, in_reader_language(label, label_en), Decimal(target))
                     for code, label, label_en, target in strata_reference.BUILTIN_INDICATORS)
    return territory_targets.indicator_refs(
        session, selection.program.id, selection.territory.id if selection.territory else None)


def program_targets(session: Session, selection: Selection, program_ids: Sequence[int]
                    ) -> dict[int, tuple[IndicatorRef, ...]]:
    """The indicators of each program with their effective targets in the selection's
    territory (`targets.indicator_refs` for several programs: one statement for all)."""
    found: dict[int, list[IndicatorRef]] = {program_id: [] for program_id in program_ids}
    if selection.territory is not None:
        for row in territory_targets.target_rows(session, selection.territory.id):
            if row.program_id in found:
                found[row.program_id].append(IndicatorRef(row.indicator_code, row.label,
                                                          row.effective_percent))
        return {program_id: tuple(refs) for program_id, refs in found.items()}
    for program_id, code, label, target in session.execute(
            select(ProgramIndicator.program_id, ProgramIndicator.code, indicator_label(),
                   ProgramIndicator.target_percent)
            .where(ProgramIndicator.program_id.in_(list(program_ids)))
            .order_by(ProgramIndicator.program_id, ProgramIndicator.is_builtin.desc(),
                      ProgramIndicator.code)):
        found[program_id].append(IndicatorRef(code, label, target))
    return {program_id: tuple(refs) for program_id, refs in found.items()}


def _view(selection: Selection, reference: Reference, period: Period,
          indicators: tuple[IndicatorRef, ...]) -> View:
    program = next((p for p in reference.programs if selection.program
                    and p.id == selection.program.id), None)
    stratum = next((s for s in reference.strata if selection.stratum
                    and s.id == selection.stratum.id), None)
    return View(period, selection.territory.code if selection.territory else None,
                program, stratum, indicators)


# -- The figures ----------------------------------------------------------------------------------

def _results(session: Session, selection: Selection, periods: Sequence[Period], *, exact: bool,
             now: datetime | None) -> list[MetricsResult]:
    reference = _reference(session)
    indicators = targets(session, selection)
    raws = figures.compute(session, selection.scope, periods, now=now or utcnow())
    return [assemble(raws.get((index, None), figures.Raw()), reference,
                     _view(selection, reference, period, indicators), exact=exact)
            for index, period in enumerate(periods)]


def registry_metrics(session: Session, selection: Selection, *, exact: bool,
                     previous: bool = False, now: datetime | None = None) -> MetricsResult:
    """Every figure of the selection's period (and of the previous period of the same length,
    in `.previous`, when asked: computed by the same statements)."""
    periods = [selection.period]
    if previous:
        periods.append(selection.period.previous())
    results = _results(session, selection, periods, exact=exact, now=now)
    if previous:
        return replace(results[0], previous=results[1])
    return results[0]


def monthly_trends(session: Session, selection: Selection, *, exact: bool,
                   now: datetime | None = None) -> list[MetricsResult]:
    """The figures of each of the twelve calendar months ending with the month of the
    selection's last day, oldest first (one statement per figure for the twelve)."""
    return _results(session, selection, selection.period.trend_months(), exact=exact, now=now)


def compare_territories(session: Session, selection: Selection, *, exact: bool,
                        now: datetime | None = None) -> list[MetricsResult]:
    """The selection's figures in each territory (the selection's territory is ignored), by
    territory code: one grouped statement per figure for all of them. Each territory's
    indicators carry its own effective targets."""
    return [results[0] for _, results in
            _territory_results(session, selection, (exact,), now=now)]


def territories_exact_and_withheld(session: Session, selection: Selection, *,
                                   now: datetime | None = None
                                   ) -> list[tuple[int, MetricsResult, MetricsResult]]:
    """Each territory's figures both exact and as its council reads them (territory id,
    exact, withheld), from the same statements: what the target alerts compare and say."""
    return [(territory_id, results[0], results[1]) for territory_id, results in
            _territory_results(session, selection, (True, False), now=now)]


def _by_territory(session: Session, selection: Selection, now: datetime
                  ) -> dict[figures.Key, figures.Raw]:
    """The raw counts of the selection's period in each territory (its territory ignored)."""
    return figures.compute(session, replace(selection.scope, territory_id=None),
                           [selection.period], by_territory=True, now=now)


def _own(raws: dict[figures.Key, figures.Raw], territory_id: int | None) -> figures.Raw:
    """The selection's own counts out of its period's by territory: its territory's, or the
    sum of them all."""
    if territory_id is not None:
        return raws.get((0, territory_id), figures.Raw())
    return figures.total(raw for (index, _territory), raw in raws.items() if index == 0)


def _territory_results(session: Session, selection: Selection, modes: Sequence[bool], *,
                       now: datetime | None,
                       raws: dict[figures.Key, figures.Raw] | None = None
                       ) -> list[tuple[int, list[MetricsResult]]]:
    reference = _reference(session)
    indicators = targets(session, replace(selection, territory=None))
    if raws is None:
        raws = _by_territory(session, selection, now or utcnow())
    territories = session.execute(select(Territory.id, Territory.code)
                                  .order_by(Territory.code)).all()
    view = _view(replace(selection, territory=None), reference, selection.period, indicators)
    own = territory_targets.own_targets_by_territory(session, selection.program.id) \
        if selection.program is not None else {}
    found = []
    for territory_id, code in territories:
        territory_view = replace(view, indicators=territory_targets.with_own_targets(
            indicators, own[territory_id])) if territory_id in own else view
        raw = raws.get((0, territory_id), figures.Raw())
        found.append((territory_id, [assemble(raw, reference, territory_view, exact=exact,
                                              territory=code) for exact in modes]))
    return found


def audit_read(session: Session, actor: Actor, selection: Selection, what: str, *,
               action: str = AuditAction.READ) -> None:
    """A read of the figures (a print: `action` PRINT) is audited with what was asked."""
    audit.record(session, actor, action, what, summary=str(selection.period),
                 details={"from": selection.period.first.isoformat(),
                          "to": selection.period.last.isoformat(),
                          "territory": selection.territory.code if selection.territory else None,
                          "program": selection.program.code if selection.program else None,
                          "stratum": selection.stratum.code if selection.stratum else None,
                          "caseload_of": selection.caseload_of.id if selection.caseload_of
                          else None})


# -- The dashboard: drill-down by program and stratum, everything a page shows --------------------

def _drill_down_counts(session: Session, selection: Selection, now: datetime
                       ) -> stored.Counted:
    """The drill-down's cells: the whole registry's counts of the selection's territory or
    caseload for its period (kept ones when there are)."""
    return stored.counts(session, replace(selection.scope, program_id=None, stratum_id=None),
                         [selection.period], now=now)


def drill_down(session: Session, selection: Selection, *, exact: bool,
               now: datetime | None = None, raw: figures.Raw | None = None
               ) -> list[DrillDownRow]:
    """Each program (the selection's, or every one) and each of its strata, with the figures
    on the period's last day that have a target: population, care-plan coverage, indicators.
    One computation for all of them (the registry's figures of the selection's territory or
    caseload, whose strata are the same cells as each program's and stratum's own figures,
    withheld alike; `raw` when the caller has them), then each program's and stratum's view
    of it."""
    reference = _reference(session)
    programs = [p for p in reference.programs
                if selection.program is None or p.id == selection.program.id]
    indicators = program_targets(session, selection, [p.id for p in programs])
    if raw is None:
        raw = _drill_down_counts(session, selection, now or utcnow()).raws.get(
            (0, None), figures.Raw())
    territory = selection.territory.code if selection.territory else None
    rows = []
    for program in programs:
        for stratum in (None, *reference.strata_of(program.id)):
            result = assemble(raw, reference, View(selection.period, territory, program,
                                                   stratum, indicators[program.id]),
                              exact=exact)
            rows.append(DrillDownRow(program.code, stratum.code if stratum else None,
                                     result.population.count, result.care_plan_coverage.rate,
                                     result.indicators))
    return rows


DASHBOARD_PARTS = frozenset({"result", "trends", "comparison", "drilldown"})


def dashboard(session: Session, selection: Selection, *, exact: bool,
              parts: frozenset[str] = DASHBOARD_PARTS, now: datetime | None = None) -> Figures:
    """What the dashboard (its exports, its printed report) shows, of `parts`: the figures
    with the previous period (`result`), the twelve months (`trends`), the territories
    compared (`comparison`) and the drill-down by program and stratum (`drilldown`); each a
    constant number of statements, whatever the rows.

    Two computations for the whole page: the period in every territory (the comparison,
    which also holds the selection's own period: its territory's counts, or their sum; and,
    without a program, the drill-down's), and the previous period with the twelve months, in
    one set of statements. Each reads the counts kept for its closed calendar periods
    (`metrics.stored`) and counts the others; `Figures.as_of` says since when."""
    now = now or utcnow()
    grouped_counts = stored.counts(session, replace(selection.scope, territory_id=None),
                                   [selection.period], by_territory=True, now=now) \
        if "comparison" in parts else None
    grouped = grouped_counts.raws if grouped_counts is not None else None
    wanted: list[Period] = []
    if "result" in parts:
        if grouped is None:
            wanted.append(selection.period)
        wanted.append(selection.period.previous())
    if "trends" in parts:
        wanted.extend(selection.period.trend_months())
    periods = list(dict.fromkeys(wanted))
    counted = stored.counts(session, selection.scope, periods, now=now) if periods else None
    raws = counted.raws if counted is not None else {}
    reference = _reference(session)
    indicators = targets(session, selection)

    def result_of(period: Period) -> MetricsResult:
        if grouped is not None and period == selection.period:
            raw = _own(grouped, selection.scope.territory_id)
        else:
            raw = raws.get((periods.index(period), None), figures.Raw())
        return assemble(raw, reference, _view(selection, reference, period, indicators),
                        exact=exact)

    result = None
    if "result" in parts:
        result = replace(result_of(selection.period),
                         previous=result_of(selection.period.previous()))
    comparison = [results[0] for _, results in _territory_results(
        session, selection, (exact,), now=now, raws=grouped)] if grouped is not None else []
    drilled = None
    drill_raw: figures.Raw | None = None
    if "drilldown" in parts:
        if grouped is not None and selection.program is None and selection.stratum is None:
            drill_raw = _own(grouped, selection.scope.territory_id)
        else:
            drilled = _drill_down_counts(session, selection, now)
            drill_raw = drilled.raws.get((0, None), figures.Raw())
    return Figures(
        result=result,
        trends=[result_of(period) for period in selection.period.trend_months()]
        if "trends" in parts else (),
        comparison=comparison,
        drilldown=drill_down(session, selection, exact=exact, now=now, raw=drill_raw)
        if "drilldown" in parts else (),
        as_of=stored.oldest(c.as_of for c in (grouped_counts, counted, drilled)
                            if c is not None))


# -- No-show rates of one patient or provider (calendars) -----------------------------------------

@dataclass(frozen=True)
class NoShowRate:
    attended: int
    no_show: int

    @property
    def rate(self) -> float | None:
        """no_show / (attended + no_show); None without any outcome (a zero denominator)."""
        total = self.attended + self.no_show
        return self.no_show / total if total else None


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants of [start 00:00, end + 1 day 00:00) in Paris local days."""
    period = Period(start, end)
    return period.starts_utc, period.ends_utc


def no_show_rates(session: Session, by: str, start: date, end: date,
                  ids: Iterable[int] | None = None) -> dict[int, NoShowRate]:
    """Per patient (`by="patient"`) or per provider (`by="provider"`): appointments starting
    in the period with status attended or no_show (metrics.md, no_show: cancelled and
    still-scheduled ones are not in the denominator)."""
    column = {"patient": Appointment.patient_id, "provider": Appointment.provider_id}[by]
    low, high = period_bounds(start, end)
    query = (select(column,
                    func.sum(case((Appointment.status == AppointmentStatus.ATTENDED, 1), else_=0)),
                    func.sum(case((Appointment.status == AppointmentStatus.NO_SHOW, 1), else_=0)))
             .where(Appointment.starts_at >= low, Appointment.starts_at < high,
                    Appointment.status.in_(figures.NO_SHOW_OUTCOMES))
             .group_by(column))
    if ids is not None:
        query = query.where(column.in_(list(ids)))
    return {key: NoShowRate(int(attended), int(no_show))
            for key, attended, no_show in session.execute(query)}


def no_show_rate(session: Session, by: str, key: int, days: int = 365) -> NoShowRate:
    """The no-show rate of one patient or provider over the last `days` days (today included)."""
    today = local_today()
    found = no_show_rates(session, by, today - timedelta(days=days - 1), today, [key])
    return found.get(key, NoShowRate(0, 0))


def banner_no_shows(session: Session, patient: Patient, today: date) -> dict:
    """What the patient banner shows of the appointments (extension point
    `patients.banner.PATIENT_BANNER`): the patient's no-shows of the last
    `RECENT_NO_SHOW_DAYS` days, today included (`no_show_rates`, one query)."""
    start = today - timedelta(days=RECENT_NO_SHOW_DAYS - 1)
    found = no_show_rates(session, "patient", start, today, [patient.id])
    return {"recent_no_shows": found[patient.id].no_show if patient.id in found else 0}
