"""The result type of the registry metrics: every count and rate with its suppression state.

The page, the API, CSV exports and printed reports all read a `MetricsResult`; a withheld cell
has no value in it at all (`Count.value` is None), so that no output can show what another
withholds. `assemble` builds one from the raw counts of `figures` for one period (and
territory): it picks the figures of the view (the whole registry, a program or a stratum), then,
for a council, withholds the small cells and their complements (`suppression`) over every
breakdown they belong to, the cells of other views included (the programs' transitions, the
strata of the program), so that each cell is withheld alike wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from coordinator.metrics.figures import IndexStays, Outcomes, Raw, Snapshot
from coordinator.metrics.periods import Period
from coordinator.metrics.suppression import Equation, State, protect, rate_state

FLU_INDICATOR = "flu_vaccination_65"
CLOSE_MARGIN = 0.05  # an indicator less than 5 points below its target is "close"


class TargetStatus(StrEnum):
    """An indicator's rate against its target (shown with text and colour, never colour alone)."""

    MET = "met"
    CLOSE = "close"
    NOT_MET = "not_met"

SMALL_MARK = "<11"
COMPLEMENTARY_MARK = "*"


# -- Counts and rates -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Count:
    """A count of people or events; `value` is None when it is withheld."""

    value: int | None
    state: State = State.EXACT

    @property
    def suppressed(self) -> bool:
        return self.state.suppressed

    @property
    def mark(self) -> str | None:
        """How a withheld count is shown in a page, a CSV file or a PDF: `<11` for a count from
        1 to 10, `*` for a count withheld so that such a count cannot be recomputed."""
        return {State.SMALL: SMALL_MARK, State.COMPLEMENTARY: COMPLEMENTARY_MARK}.get(self.state)


@dataclass(frozen=True)
class Rate:
    """A fraction (0.25, not 25 %); None when withheld or when its denominator is zero."""

    value: float | None
    state: State = State.EXACT

    @property
    def suppressed(self) -> bool:
        return self.state.suppressed


def _suppressed(*items: Count | Rate | None) -> bool:
    return any(item is not None and item.suppressed for item in items)


@dataclass(frozen=True)
class Population:
    count: Count
    by_stratum: dict[str, Count]

    @property
    def suppressed(self) -> bool:
        return _suppressed(self.count, *self.by_stratum.values())


@dataclass(frozen=True)
class Transitions:
    up: Count
    down: Count

    @property
    def suppressed(self) -> bool:
        return _suppressed(self.up, self.down)


@dataclass(frozen=True)
class NoShow:
    attended: Count
    no_show: Count
    rate: Rate
    outcome_missing: Count

    @property
    def suppressed(self) -> bool:
        return _suppressed(self.attended, self.no_show, self.rate, self.outcome_missing)


@dataclass(frozen=True)
class Readmission:
    index_stays: Count
    readmitted: Count
    rate: Rate

    @property
    def suppressed(self) -> bool:
        return _suppressed(self.index_stays, self.readmitted, self.rate)


@dataclass(frozen=True)
class FollowUp:
    index_stays: Count
    followed_up: Count
    rate: Rate

    @property
    def suppressed(self) -> bool:
        return _suppressed(self.index_stays, self.followed_up, self.rate)


@dataclass(frozen=True)
class Coverage:
    eligible: Count
    with_active_plan: Count
    rate: Rate

    @property
    def suppressed(self) -> bool:
        return _suppressed(self.eligible, self.with_active_plan, self.rate)


@dataclass(frozen=True)
class Indicator:
    """An indicator of the program with its target (a fraction). A program's own indicator
    has no definition in the metrics: `computed` is False and it has no counts."""

    code: str
    label: str
    numerator: Count | None
    denominator: Count | None
    rate: Rate | None
    target: float | None
    computed: bool = True

    @property
    def suppressed(self) -> bool:
        return _suppressed(self.numerator, self.denominator, self.rate)

    @property
    def status(self) -> TargetStatus | None:
        """Met (rate at or above the target), close (less than `CLOSE_MARGIN` below it) or not
        met; None when there is no rate to compare (withheld, no denominator, not computed) or
        no target."""
        if self.rate is None or self.rate.value is None or self.target is None:
            return None
        if self.rate.value >= self.target:
            return TargetStatus.MET
        if self.rate.value > self.target - CLOSE_MARGIN:
            return TargetStatus.CLOSE
        return TargetStatus.NOT_MET

    @property
    def gap(self) -> float | None:
        """How far the rate is below its target (negative when above), for "worst gap first"."""
        if self.rate is None or self.rate.value is None or self.target is None:
            return None
        return self.target - self.rate.value


@dataclass(frozen=True)
class Split:
    """No-show and readmission of one side of followed vs not followed."""

    no_show: NoShow
    readmission_30d: Readmission

    @property
    def suppressed(self) -> bool:
        return self.no_show.suppressed or self.readmission_30d.suppressed


@dataclass(frozen=True)
class MetricsResult:
    """Every figure of metrics.md for one period and selection, as one reader may see it."""

    period: Period
    territory: str | None
    program: str | None
    stratum: str | None
    exact: bool  # False: a council's figures, small cells withheld
    population: Population
    transitions: Transitions
    no_show: NoShow
    readmission_30d: Readmission
    followup_7d: FollowUp
    care_plan_coverage: Coverage
    plans_review_overdue: Count
    indicators: tuple[Indicator, ...]
    followed: Split
    not_followed: Split
    previous: MetricsResult | None = field(default=None, compare=False)

    @property
    def suppressed(self) -> bool:
        """Whether anything is withheld in it."""
        return any(item.suppressed for _, item in self.cells())

    def cells(self) -> Iterator[tuple[str, Count | Rate]]:
        """Every count and rate with its path (`no_show.attended`, `followed.no_show.rate`):
        what a CSV export or a test walks."""
        yield "population.count", self.population.count
        for code, count in self.population.by_stratum.items():
            yield f"population.by_stratum.{code}", count
        yield "transitions.up", self.transitions.up
        yield "transitions.down", self.transitions.down
        yield from _figure_cells("no_show", self.no_show)
        yield from _figure_cells("readmission_30d", self.readmission_30d)
        yield from _figure_cells("followup_7d", self.followup_7d)
        yield from _figure_cells("care_plan_coverage", self.care_plan_coverage)
        yield "plans_review_overdue", self.plans_review_overdue
        for indicator in self.indicators:
            if indicator.computed:
                for name in ("numerator", "denominator", "rate"):
                    yield f"indicators.{indicator.code}.{name}", getattr(indicator, name)
        for side, split in (("followed", self.followed), ("not_followed", self.not_followed)):
            yield from _figure_cells(f"followed_vs_not.{side}.no_show", split.no_show)
            yield from _figure_cells(f"followed_vs_not.{side}.readmission_30d",
                                     split.readmission_30d)

    def to_json(self) -> dict[str, Any]:
        """The answer of `GET /api/v1/metrics` (metrics.md, "API"): a withheld value is null
        and the figure holding it says `"suppressed": true`."""
        return {
            "period": {"from": self.period.first.isoformat(), "to": self.period.last.isoformat()},
            "territory": self.territory, "program": self.program, "stratum": self.stratum,
            "suppressed": self.suppressed,
            "population": {"count": self.population.count.value,
                           "by_stratum": {code: count.value for code, count
                                          in self.population.by_stratum.items()},
                           "suppressed": self.population.suppressed},
            "transitions": {"up": self.transitions.up.value,
                            "down": self.transitions.down.value,
                            "suppressed": self.transitions.suppressed},
            "no_show": _no_show_json(self.no_show),
            "readmission_30d": _readmission_json(self.readmission_30d),
            "followup_7d": {"index_stays": self.followup_7d.index_stays.value,
                            "followed_up": self.followup_7d.followed_up.value,
                            "rate": self.followup_7d.rate.value,
                            "suppressed": self.followup_7d.suppressed},
            "care_plan_coverage": {
                "eligible": self.care_plan_coverage.eligible.value,
                "with_active_plan": self.care_plan_coverage.with_active_plan.value,
                "rate": self.care_plan_coverage.rate.value,
                "suppressed": self.care_plan_coverage.suppressed},
            "plans_review_overdue": self.plans_review_overdue.value,
            "indicators": [_indicator_json(indicator) for indicator in self.indicators],
            "followed_vs_not": {side: {"no_show": _no_show_json(split.no_show),
                                       "readmission_30d": _readmission_json(
                                           split.readmission_30d),
                                       "suppressed": split.suppressed}
                                for side, split in (("followed", self.followed),
                                                    ("not_followed", self.not_followed))},
        }

    def headline_json(self) -> dict[str, Any]:
        """The headline figures a comparison of territories shows."""
        body = self.to_json()
        return {"territory": self.territory, "suppressed": self.suppressed,
                "population": {"count": body["population"]["count"],
                               "suppressed": self.population.count.suppressed},
                **{name: body[name] for name in ("no_show", "readmission_30d", "followup_7d",
                                                 "care_plan_coverage", "indicators")}}


def _figure_cells(prefix: str, figure: Any) -> Iterator[tuple[str, Count | Rate]]:
    for name, value in vars(figure).items():
        if isinstance(value, Count | Rate):
            yield f"{prefix}.{name}", value


def _no_show_json(figure: NoShow) -> dict[str, Any]:
    return {"attended": figure.attended.value, "no_show": figure.no_show.value,
            "rate": figure.rate.value, "outcome_missing": figure.outcome_missing.value,
            "suppressed": figure.suppressed}


def _readmission_json(figure: Readmission) -> dict[str, Any]:
    return {"index_stays": figure.index_stays.value, "readmitted": figure.readmitted.value,
            "rate": figure.rate.value, "suppressed": figure.suppressed}


def _indicator_json(indicator: Indicator) -> dict[str, Any]:
    return {"code": indicator.code, "label": indicator.label,
            "numerator": indicator.numerator.value if indicator.numerator else None,
            "denominator": indicator.denominator.value if indicator.denominator else None,
            "rate": indicator.rate.value if indicator.rate else None,
            "target": indicator.target, "computed": indicator.computed,
            "suppressed": indicator.suppressed}


# -- What `assemble` needs to know of the reference data ------------------------------------------

@dataclass(frozen=True)
class StratumRef:
    id: int
    code: str
    level: int
    requires_care_plan: bool
    program_id: int


@dataclass(frozen=True)
class ProgramRef:
    id: int
    code: str


@dataclass(frozen=True)
class IndicatorRef:
    code: str
    label: str
    target_percent: Decimal | None


@dataclass(frozen=True)
class Reference:
    programs: tuple[ProgramRef, ...]
    strata: tuple[StratumRef, ...]  # by program, then level

    def strata_of(self, program_id: int) -> list[StratumRef]:
        return [s for s in self.strata if s.program_id == program_id]


@dataclass(frozen=True)
class View:
    """What is asked: the period, and at most a territory, a program and one of its strata."""

    period: Period
    territory: str | None = None
    program: ProgramRef | None = None
    stratum: StratumRef | None = None
    indicators: tuple[IndicatorRef, ...] = ()


# -- Assembly -------------------------------------------------------------------------------------

class _Cells:
    """The counts of one answer by key, the equations tying them, then their states."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.equations: list[Equation] = []
        self.states: dict[str, State] = {}
        self.exact = True

    def add(self, key: str, value: int) -> str:
        self.values[key] = value
        return key

    def total(self, key: str, parts: Sequence[str]) -> str:
        self.add(key, sum(self.values[part] for part in parts))
        self.equations.append(Equation(key, tuple(parts)))
        return key

    def settle(self, exact: bool) -> None:
        self.exact = exact
        self.states = (dict.fromkeys(self.values, State.EXACT) if exact
                       else protect(self.values, self.equations))

    def count(self, key: str | None) -> Count:
        if key is None:
            return Count(0)
        state = self.states[key]
        return Count(None if state.suppressed else self.values[key], state)

    def rate(self, numerator: str | None, denominator_value: int,
             components: Sequence[str | None]) -> Rate:
        numerator_value = self.values[numerator] if numerator else 0
        state = State.EXACT if self.exact else rate_state(
            numerator_value, denominator_value,
            [self.states[c] for c in components if c is not None])
        if state.suppressed:
            return Rate(None, state)
        return Rate(numerator_value / denominator_value if denominator_value else None)


SNAPSHOT_FIELDS = ("population", "with_plan", "older", "older_vaccinated")


def _snapshot_cells(cells: _Cells, raw: Raw, reference: Reference, program_ids: Sequence[int]
                    ) -> None:
    """The table of each program: its strata by (population, with plan, 65 or more, of them
    vaccinated), with the program's totals, and eligible = the strata requiring a plan."""
    for program_id in program_ids:
        strata = reference.strata_of(program_id)
        for stratum in strata:
            snapshot = raw.by_stratum.get(stratum.id, Snapshot())
            for name in SNAPSHOT_FIELDS:
                cells.add(f"{name}/stratum:{stratum.code}", getattr(snapshot, name))
        program = f"program:{program_id}"
        for name in SNAPSHOT_FIELDS:
            cells.total(f"{name}/{program}", [f"{name}/stratum:{s.code}" for s in strata])
        cells.total(f"eligible/{program}", [f"population/stratum:{s.code}" for s in strata
                                            if s.requires_care_plan])


def _outcome_cells(cells: _Cells, prefix: str, sides: Mapping[bool, Any], names: Sequence[str]
                   ) -> None:
    """followed + not followed = the whole, for each count."""
    for name in names:
        parts = [cells.add(f"{prefix}{name}/{side}", getattr(sides[flag], name))
                 for side, flag in (("followed", True), ("not_followed", False))]
        cells.total(f"{prefix}{name}", parts)


def assemble(raw: Raw, reference: Reference, view: View, *, exact: bool,
             territory: str | None = None) -> MetricsResult:
    """The figures of `view` from its raw counts; `exact` False withholds as for a council."""
    cells = _Cells()
    program, stratum = view.program, view.stratum
    programs = [program.id] if program else [p.id for p in reference.programs]
    _snapshot_cells(cells, raw, reference, programs)
    if program is None:
        registry = raw.registry
        for name in (*SNAPSHOT_FIELDS, "eligible"):
            cells.add(f"{name}/registry", getattr(registry, name))
    # Transitions: each program's add up to every program's; a stratum's cohort stands alone.
    for direction, index in (("up", 0), ("down", 1)):
        if stratum is not None:
            cells.add(f"{direction}/cohort",
                      raw.transitions.get(stratum.program_id, (0, 0))[index])
        else:
            cells.total(f"{direction}/all", [
                cells.add(f"{direction}/program:{p.id}", raw.transitions.get(p.id, (0, 0))[index])
                for p in reference.programs])
    _outcome_cells(cells, "", raw.appointments, ("attended", "no_show", "outcome_missing"))
    _outcome_cells(cells, "", raw.stays, ("index_stays", "readmitted"))
    stays = raw.stays[True] + raw.stays[False]
    cells.add("followed_up", stays.followed_up)
    cells.add("plans_review_overdue", raw.plans_review_overdue)
    cells.settle(exact)

    # Which cells this view shows.
    if stratum is not None:
        where = f"stratum:{stratum.code}"
        shown_strata = [stratum]
        eligible = f"population/{where}" if stratum.requires_care_plan else None
        with_plan = f"with_plan/{where}" if stratum.requires_care_plan else None
        transitions = ("up/cohort", "down/cohort")
    elif program is not None:
        where = f"program:{program.id}"
        shown_strata = reference.strata_of(program.id)
        eligible, with_plan = f"eligible/{where}", f"with_plan/{where}"
        transitions = (f"up/{where}", f"down/{where}")
    else:
        where = "registry"
        shown_strata = list(reference.strata)
        eligible, with_plan = "eligible/registry", "with_plan/registry"
        transitions = ("up/all", "down/all")

    def value(key: str | None) -> int:
        return cells.values[key] if key else 0

    def no_show(suffix: str) -> NoShow:
        attended, missed = f"attended{suffix}", f"no_show{suffix}"
        return NoShow(cells.count(attended), cells.count(missed),
                      cells.rate(missed, value(attended) + value(missed), (attended, missed)),
                      cells.count(f"outcome_missing{suffix}"))

    def readmission(suffix: str) -> Readmission:
        index, readmitted = f"index_stays{suffix}", f"readmitted{suffix}"
        return Readmission(cells.count(index), cells.count(readmitted),
                           cells.rate(readmitted, value(index), (index, readmitted)))

    older, vaccinated = f"older/{where}", f"older_vaccinated/{where}"
    indicators = []
    for indicator in view.indicators:
        target = float(indicator.target_percent) / 100 \
            if indicator.target_percent is not None else None
        if indicator.code == FLU_INDICATOR:
            indicators.append(Indicator(
                indicator.code, indicator.label, cells.count(vaccinated), cells.count(older),
                cells.rate(vaccinated, value(older), (older, vaccinated)), target))
        else:
            indicators.append(Indicator(indicator.code, indicator.label, None, None, None,
                                        target, computed=False))
    return MetricsResult(
        period=view.period, territory=territory if territory is not None else view.territory,
        program=program.code if program else None, stratum=stratum.code if stratum else None,
        exact=exact,
        population=Population(cells.count(f"population/{where}"), {
            s.code: cells.count(f"population/stratum:{s.code}") for s in shown_strata}),
        transitions=Transitions(cells.count(transitions[0]), cells.count(transitions[1])),
        no_show=no_show(""),
        readmission_30d=readmission(""),
        followup_7d=FollowUp(cells.count("index_stays"), cells.count("followed_up"),
                             cells.rate("followed_up", value("index_stays"),
                                        ("index_stays", "followed_up"))),
        care_plan_coverage=Coverage(cells.count(eligible), cells.count(with_plan),
                                    cells.rate(with_plan, value(eligible),
                                               (eligible, with_plan))),
        plans_review_overdue=cells.count("plans_review_overdue"),
        indicators=tuple(indicators),
        followed=Split(no_show("/followed"), readmission("/followed")),
        not_followed=Split(no_show("/not_followed"), readmission("/not_followed")),
    )


__all__ = ["Count", "Coverage", "FollowUp", "IndexStays", "Indicator", "MetricsResult",
           "NoShow", "Outcomes", "Population", "Rate", "Readmission", "Reference", "Split",
           "Transitions", "View", "assemble"]
