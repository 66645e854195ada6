"""The tables of the registry figures: the one source of the dashboard's tables, its CSV
exports, the values beside each chart and the printed report.

`dashboard_tables(figures)` turns the figures of a dashboard (`services.Dashboard`: the
result with its previous period, the twelve months, the territories compared, the drill-down
by program and stratum) into a list of `Table`s, each made of rows of `Cell`s. A cell holds a
value or, when it is withheld, only its mark (`<11`, `*`): it is built from a `Count` or a
`Rate` of `results`, whose withheld value is already gone, so no table can show what the
result withholds. A cell formats itself for the page (`text`) and for a CSV file (`csv`) in a
locale, through Babel: `1 234` and `33,3 %` in French, `1,234` and `33.3%` in English; in a
CSV file counts have no grouping and rates are percentages with one decimal (`33,3` in French).

Nothing here queries the database: the tables are made of what the services computed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from coordinator.metrics.results import (
    COMPLEMENTARY_MARK,
    Count,
    Indicator,
    MetricsResult,
    Rate,
    TargetStatus,
)
from coordinator.metrics.suppression import State

RATE_MARK = COMPLEMENTARY_MARK  # a withheld rate: computed from a small or withheld count
EMPTY = "—"  # a rate of a zero denominator (nothing to count), on a page


class Kind(StrEnum):
    """What a column holds, hence how its cells are written."""

    TEXT = "text"
    MONTH = "month"  # a date: its month, written "janv. 2026" / "2026-01" in a CSV file
    COUNT = "count"
    DELTA = "delta"  # the change of a count
    RATE = "rate"  # a fraction, written as a percentage
    POINTS = "points"  # the change of a rate (percentage points)
    STATUS = "status"  # met / close / not met


STATUS_LABELS = {
    TargetStatus.MET: _l("met"),
    TargetStatus.CLOSE: _l("close"),
    TargetStatus.NOT_MET: _l("not met"),
}


def resolve_locale(locale: Locale | str | None) -> Locale | str:
    """The locale asked, else the request's (French by default)."""
    return locale if locale is not None else (get_locale() or "fr")


def percent_pattern(locale: Locale | str, decimals: int) -> str:
    """The locale's percent pattern with `decimals` decimals ("#,##0,0 %" in French)."""
    pattern = Locale.parse(locale).percent_formats[None].pattern
    return pattern.replace("0", "0." + "0" * decimals, 1) if decimals else pattern


@dataclass(frozen=True)
class Cell:
    """One value of a table, or its suppression mark (then `value` is None)."""

    kind: Kind
    value: Any = None
    mark: str | None = None

    @property
    def suppressed(self) -> bool:
        return self.mark is not None

    @property
    def number(self) -> float | None:
        """The value a chart plots: None when withheld or empty."""
        if self.mark is not None or not isinstance(self.value, int | float):
            return None
        return float(self.value)

    @property
    def status(self) -> TargetStatus | None:
        return self.value if self.kind is Kind.STATUS else None

    def text(self, locale: Locale | str | None = None) -> str:
        """As the page shows it."""
        if self.mark is not None:
            return self.mark
        where = resolve_locale(locale)
        value = self.value
        if value is None:
            return EMPTY if self.kind in (Kind.RATE, Kind.POINTS, Kind.DELTA) else ""
        if self.kind is Kind.COUNT:
            return format_decimal(value, locale=where)
        if self.kind is Kind.DELTA:
            return format_decimal(value, "+#,##0;-#,##0", locale=where)
        if self.kind is Kind.RATE:
            return format_percent(value, percent_pattern(where, 1), locale=where)
        if self.kind is Kind.POINTS:
            return str(_l("%(value)s pts",
                          value=format_decimal(value * 100, "+#,##0.0;-#,##0.0", locale=where)))
        if self.kind is Kind.MONTH:
            return format_date(value, "MMM yyyy", locale=where)
        if self.kind is Kind.STATUS:
            return str(STATUS_LABELS[value])
        return str(value)

    def csv(self, locale: Locale | str | None = None) -> str:
        """As a CSV file holds it: a withheld cell as its mark, counts without grouping, rates
        and changes of rates as percentages with one decimal (decimal comma in French)."""
        if self.mark is not None:
            return self.mark
        where = resolve_locale(locale)
        value = self.value
        if value is None:
            return ""
        if self.kind in (Kind.COUNT, Kind.DELTA):
            return str(int(value))
        if self.kind in (Kind.RATE, Kind.POINTS):
            return format_decimal(value * 100, "0.0", locale=where)
        if self.kind is Kind.MONTH:
            return value.strftime("%Y-%m")
        if self.kind is Kind.STATUS:
            return str(STATUS_LABELS[value])
        return str(value)


@dataclass(frozen=True)
class Column:
    key: str
    title: Any  # a lazy string: translated when shown
    kind: Kind
    plotted: bool = False  # a series of the table's chart

    def csv_title(self) -> str:
        if self.kind in (Kind.RATE, Kind.POINTS):
            return f"{self.title} (%)"
        return str(self.title)


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    # The selection this row is the figures of (`{"program": "HF", "stratum": "HF-3"}`,
    # `{"territory": "DOUAISIS"}`): the page links to it where the reader may open it.
    params: dict[str, str] = field(default_factory=dict)
    total: bool = False

    @property
    def label(self) -> Cell:
        return self.cells[0]


@dataclass(frozen=True)
class Table:
    key: str
    title: Any
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    chart: str | None = None  # pyramid, trends, bars (charts.py); None: no chart
    note: Any = None

    @property
    def plotted(self) -> list[int]:
        return [index for index, column in enumerate(self.columns) if column.plotted]

    def column(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    def cell(self, row: int, key: str) -> Cell:
        return self.rows[row].cells[self.column(key)]

    def csv_rows(self, locale: Locale | str | None = None) -> list[list[str]]:
        """The header and the rows as a CSV file holds them (not yet formula-safe: see
        `exports`)."""
        return [[column.csv_title() for column in self.columns],
                *[[cell.csv(locale) for cell in row.cells] for row in self.rows]]


# -- Cells ----------------------------------------------------------------------------------------

def text(value: Any) -> Cell:
    """A label (a lazy string stays lazy: translated when written)."""
    return Cell(Kind.TEXT, value)


def month(day: date) -> Cell:
    return Cell(Kind.MONTH, day)


def count(item: Count | None) -> Cell:
    if item is None:
        return Cell(Kind.COUNT)
    if item.suppressed:
        return Cell(Kind.COUNT, None, item.mark or COMPLEMENTARY_MARK)
    return Cell(Kind.COUNT, item.value)


def rate(item: Rate | None) -> Cell:
    if item is None:
        return Cell(Kind.RATE)
    return Cell(Kind.RATE, item.value, RATE_MARK if item.suppressed else None)


def fraction(value: float | None) -> Cell:
    """A target (never withheld: it is no count of people)."""
    return Cell(Kind.RATE, value)


def points(value: float | None) -> Cell:
    return Cell(Kind.POINTS, value)


def status(item: TargetStatus | None) -> Cell:
    return Cell(Kind.STATUS, item)


def _withheld(indicator: Indicator | None) -> bool:
    return indicator is not None and indicator.rate is not None and indicator.rate.suppressed


def _below(indicator: Indicator) -> Cell:
    """The rate minus its target: negative when below it (-12.5 pts); withheld with the rate."""
    if _withheld(indicator):
        return Cell(Kind.POINTS, None, RATE_MARK)
    return points(None if indicator.gap is None else -indicator.gap)


def _status(indicator: Indicator | None) -> Cell:
    """Met, close or not met; withheld with the rate."""
    if _withheld(indicator):
        return Cell(Kind.STATUS, None, RATE_MARK)
    return status(indicator.status if indicator else None)


def change(current: Count | Rate | None, previous: Count | Rate | None) -> Cell:
    """The change from the previous period: withheld when either value is (it is worked out
    from shown values only, so it tells nothing a reader could not subtract)."""
    kind = Kind.POINTS if isinstance(current, Rate) else Kind.DELTA
    if current is None or previous is None:
        return Cell(kind)
    if current.suppressed or previous.suppressed:
        return Cell(kind, None, RATE_MARK if kind is Kind.POINTS else COMPLEMENTARY_MARK)
    if current.value is None or previous.value is None:
        return Cell(kind)
    return Cell(kind, current.value - previous.value)


# -- The figures of a dashboard -------------------------------------------------------------------

@dataclass(frozen=True)
class DrillDownRow:
    """The figures of one program, or one stratum of it, that have a target."""

    program: str
    stratum: str | None
    population: Count
    coverage: Rate
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Figures:
    """Everything a dashboard shows: the result (with `.previous`), the twelve months, the
    territories compared and the drill-down; `as_of`: when the oldest of the counts they are
    made of were counted (`metrics.stored`), None when all were counted now."""

    result: MetricsResult | None = None
    trends: Sequence[MetricsResult] = ()
    comparison: Sequence[MetricsResult] = ()
    drilldown: Sequence[DrillDownRow] = ()
    as_of: datetime | None = None


# -- The tables -----------------------------------------------------------------------------------

def population(result: MetricsResult) -> Table:
    """The pyramid: the population on the last day by stratum, with the previous period."""
    previous = result.previous
    columns = [Column("stratum", _l("Stratum"), Kind.TEXT),
               Column("count", _l("Patients"), Kind.COUNT, plotted=True)]
    if previous is not None:
        columns += [Column("previous", _l("Previous period"), Kind.COUNT, plotted=True),
                    Column("change", _l("Change from the previous period"), Kind.DELTA)]

    def row(label: Any, current: Count, before: Count | None, total: bool = False,
            params: dict[str, str] | None = None) -> Row:
        cells = [text(label), count(current)]
        if previous is not None:
            cells += [count(before), change(current, before)]
        return Row(tuple(cells), params or {}, total=total)

    rows = [row(code, item, previous.population.by_stratum.get(code) if previous else None,
                params={"stratum": code})
            for code, item in result.population.by_stratum.items()]
    rows.append(row(_l("Total"), result.population.count,
                    previous.population.count if previous else None, total=True))
    return Table("population", _l("Population by stratum on the last day"), tuple(columns),
                 tuple(rows), chart="pyramid")


def transitions(result: MetricsResult) -> Table:
    previous = result.previous
    columns = [Column("direction", _l("Stratum changes"), Kind.TEXT),
               Column("count", _l("This period"), Kind.COUNT, plotted=True)]
    if previous is not None:
        columns += [Column("previous", _l("Previous period"), Kind.COUNT, plotted=True),
                    Column("change", _l("Change from the previous period"), Kind.DELTA)]
    rows = []
    for label, name in ((_l("Up (to a higher level)"), "up"),
                        (_l("Down (to a lower level)"), "down")):
        current = getattr(result.transitions, name)
        cells = [text(label), count(current)]
        if previous is not None:
            before = getattr(previous.transitions, name)
            cells += [count(before), change(current, before)]
        rows.append(Row(tuple(cells)))
    return Table("transitions", _l("Transitions between strata"), tuple(columns), tuple(rows))


# The headline figures: (key, label, numerator, denominator, rate) of a result.
HEADLINES: tuple[tuple[str, Any, Callable[[MetricsResult], Count],
                       Callable[[MetricsResult], Count | None],
                       Callable[[MetricsResult], Rate | None]], ...] = (
    ("no_show", _l("No-show rate"), lambda r: r.no_show.no_show,
     lambda r: _sum(r.no_show.attended, r.no_show.no_show), lambda r: r.no_show.rate),
    ("readmission_30d", _l("30-day readmission rate"), lambda r: r.readmission_30d.readmitted,
     lambda r: r.readmission_30d.index_stays, lambda r: r.readmission_30d.rate),
    ("followup_7d", _l("7-day follow-up after discharge"), lambda r: r.followup_7d.followed_up,
     lambda r: r.followup_7d.index_stays, lambda r: r.followup_7d.rate),
    ("care_plan_coverage", _l("Care-plan coverage"),
     lambda r: r.care_plan_coverage.with_active_plan, lambda r: r.care_plan_coverage.eligible,
     lambda r: r.care_plan_coverage.rate),
    ("plans_review_overdue", _l("Care plans overdue for review"),
     lambda r: r.plans_review_overdue, lambda r: None, lambda r: None),
    ("outcome_missing", _l("Past appointments without an outcome"),
     lambda r: r.no_show.outcome_missing, lambda r: None, lambda r: None),
)


def _sum(a: Count, b: Count) -> Count:
    """attended + no-show, the no-show rate's denominator: withheld when either is."""
    if a.suppressed or b.suppressed:
        return Count(None, State.WITHHELD)
    return Count((a.value or 0) + (b.value or 0))


def headline(result: MetricsResult) -> Table:
    """Each rate as n of N, with the previous period and the change."""
    previous = result.previous
    columns = [Column("figure", _l("Figure"), Kind.TEXT),
               Column("n", _l("n"), Kind.COUNT), Column("of", _l("of N"), Kind.COUNT),
               Column("rate", _l("Rate"), Kind.RATE, plotted=True)]
    if previous is not None:
        columns += [Column("previous_n", _l("n, previous period"), Kind.COUNT),
                    Column("previous_of", _l("of N, previous period"), Kind.COUNT),
                    Column("previous_rate", _l("Rate, previous period"), Kind.RATE,
                           plotted=True),
                    Column("change", _l("Change from the previous period"), Kind.POINTS)]
    rows = []
    for key, label, numerator, denominator, rate_of in HEADLINES:
        cells = [text(label), count(numerator(result)), count(denominator(result)),
                 rate(rate_of(result))]
        if previous is not None:
            cells += [count(numerator(previous)), count(denominator(previous)),
                      rate(rate_of(previous))]
            if rate_of(result) is None:
                cells.append(change(numerator(result), numerator(previous)))
            else:
                cells.append(change(rate_of(result), rate_of(previous)))
        rows.append(Row(tuple(cells), {"figure": key}))
    return Table("headline", _l("Headline figures"), tuple(columns), tuple(rows))


def indicators(result: MetricsResult) -> Table:
    """The program's indicators against their targets."""
    previous = {i.code: i for i in result.previous.indicators} if result.previous else {}
    columns = (Column("indicator", _l("Indicator"), Kind.TEXT),
               Column("numerator", _l("n"), Kind.COUNT),
               Column("denominator", _l("of N"), Kind.COUNT),
               Column("rate", _l("Rate"), Kind.RATE, plotted=True),
               Column("target", _l("Target"), Kind.RATE, plotted=True),
               Column("gap", _l("Gap to target"), Kind.POINTS),
               Column("status", _l("Status"), Kind.STATUS),
               Column("previous_rate", _l("Rate, previous period"), Kind.RATE))
    rows = []
    for item in result.indicators:
        before = previous.get(item.code)
        rows.append(Row((text(item.label), count(item.numerator), count(item.denominator),
                         rate(item.rate), fraction(item.target), _below(item),
                         _status(item), rate(before.rate if before else None)),
                        {"indicator": item.code}))
    return Table("indicators", _l("Indicators against their targets"), columns, tuple(rows),
                 chart="bars")


def followed_vs_not(result: MetricsResult) -> Table:
    """No-show and readmission for the patients followed (an active care plan in the period)
    and the others, side by side, and their whole."""
    columns = (Column("group", _l("Patients"), Kind.TEXT),
               Column("attended", _l("Attended"), Kind.COUNT),
               Column("no_show", _l("No-shows"), Kind.COUNT),
               Column("no_show_rate", _l("No-show rate"), Kind.RATE, plotted=True),
               Column("index_stays", _l("Index stays"), Kind.COUNT),
               Column("readmitted", _l("Readmitted within 30 days"), Kind.COUNT),
               Column("readmission_rate", _l("30-day readmission rate"), Kind.RATE,
                      plotted=True))
    rows = []
    for label, key, no_show, readmission in (
            (_l("Followed (an active care plan)"), "followed", result.followed.no_show,
             result.followed.readmission_30d),
            (_l("Not followed"), "not_followed", result.not_followed.no_show,
             result.not_followed.readmission_30d),
            (_l("All"), "all", result.no_show, result.readmission_30d)):
        rows.append(Row((text(label), count(no_show.attended), count(no_show.no_show),
                         rate(no_show.rate), count(readmission.index_stays),
                         count(readmission.readmitted), rate(readmission.rate)),
                        {"group": key}, total=key == "all"))
    return Table("followed_vs_not", _l("Followed vs not followed"), columns, tuple(rows),
                 chart="bars")


def _first_indicator(result: MetricsResult) -> Indicator | None:
    return next((i for i in result.indicators if i.computed), None)


def trends(months: Sequence[MetricsResult]) -> Table:
    """Each rate month by month (each month its own period)."""
    first = _first_indicator(months[0]) if months else None
    label = first.label if first is not None else _l("Indicator")
    columns = (Column("month", _l("Month"), Kind.MONTH),
               Column("no_show", _l("No-show rate"), Kind.RATE, plotted=True),
               Column("readmission_30d", _l("30-day readmission rate"), Kind.RATE,
                      plotted=True),
               Column("followup_7d", _l("7-day follow-up after discharge"), Kind.RATE,
                      plotted=True),
               Column("care_plan_coverage", _l("Care-plan coverage"), Kind.RATE, plotted=True),
               Column("indicator", label, Kind.RATE, plotted=True))
    rows = []
    for result in months:
        indicator = _first_indicator(result)
        rows.append(Row((month(result.period.first), rate(result.no_show.rate),
                         rate(result.readmission_30d.rate), rate(result.followup_7d.rate),
                         rate(result.care_plan_coverage.rate),
                         rate(indicator.rate if indicator else None))))
    return Table("trends", _l("Trends over the last twelve months"), columns, tuple(rows),
                 chart="trends")


def comparison(results: Sequence[MetricsResult]) -> Table:
    """The territories' headline rates side by side (withheld alike for a council)."""
    columns = (Column("territory", _l("Territory"), Kind.TEXT),
               Column("population", _l("Patients"), Kind.COUNT),
               Column("no_show", _l("No-show rate"), Kind.RATE, plotted=True),
               Column("readmission_30d", _l("30-day readmission rate"), Kind.RATE,
                      plotted=True),
               Column("followup_7d", _l("7-day follow-up after discharge"), Kind.RATE,
                      plotted=True),
               Column("care_plan_coverage", _l("Care-plan coverage"), Kind.RATE, plotted=True),
               Column("indicator", _l("Indicator"), Kind.RATE),
               Column("status", _l("Status"), Kind.STATUS))
    rows = []
    for result in results:
        indicator = _first_indicator(result)
        rows.append(Row((text(result.territory), count(result.population.count),
                         rate(result.no_show.rate), rate(result.readmission_30d.rate),
                         rate(result.followup_7d.rate), rate(result.care_plan_coverage.rate),
                         rate(indicator.rate if indicator else None),
                         _status(indicator)),
                        {"territory": result.territory or ""}))
    return Table("comparison", _l("The territories compared"), columns, tuple(rows),
                 chart="bars")


def drilldown(rows: Sequence[DrillDownRow]) -> Table:
    """Each program and stratum with each indicator against its target, the worst gap first
    (those without a rate to compare last)."""
    columns = (Column("program", _l("Program"), Kind.TEXT),
               Column("stratum", _l("Stratum"), Kind.TEXT),
               Column("population", _l("Patients"), Kind.COUNT),
               Column("coverage", _l("Care-plan coverage"), Kind.RATE),
               Column("indicator", _l("Indicator"), Kind.TEXT),
               Column("rate", _l("Rate"), Kind.RATE),
               Column("target", _l("Target"), Kind.RATE),
               Column("gap", _l("Gap to target"), Kind.POINTS),
               Column("status", _l("Status"), Kind.STATUS))
    lines = []
    for item in rows:
        params = {"program": item.program}
        if item.stratum:
            params["stratum"] = item.stratum
        for indicator in item.indicators:
            if not indicator.computed:
                continue
            lines.append((indicator.gap, Row(
                (text(item.program), text(item.stratum or _l("All strata")),
                 count(item.population), rate(item.coverage), text(indicator.label),
                 rate(indicator.rate), fraction(indicator.target), _below(indicator),
                 _status(indicator)), params)))
    lines.sort(key=lambda line: (line[0] is None, -(line[0] or 0.0)))
    return Table("drilldown", _l("By program and stratum, worst gap to target first"),
                 columns, tuple(row for _, row in lines))


def dashboard_tables(figures: Figures) -> list[Table]:
    """Every table of a dashboard, in the page's order."""
    result = figures.result
    tables = [] if result is None else [
        population(result), transitions(result), headline(result), indicators(result),
        followed_vs_not(result)]
    if figures.trends:
        tables.append(trends(figures.trends))
    if figures.drilldown:
        tables.append(drilldown(figures.drilldown))
    if figures.comparison:
        tables.append(comparison(figures.comparison))
    return tables
