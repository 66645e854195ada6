"""Small-cell suppression of the figures a council reads (metrics.md, "Small-cell suppression").

- A count from 1 to 10 is withheld (`SMALL`, shown `<11`).
- Where the cells of a breakdown add up to a total (population by stratum and the program's
  population; followed + not followed = the whole; the programs' transitions and every
  program's; a column of a table), a withheld cell could be recomputed by subtraction: another
  cell of the breakdown is withheld too (`COMPLEMENTARY`), the next smallest that is not zero
  (a zero would tell nothing: the attacker could still subtract); the total itself only when
  no cell is left.
- Withholding two cells is not always enough: the attacker also knows that a `<11` cell is 1
  to 10, a complementary one 11 or more, so that `<11` + complementary = 12 gives 1 and 11. The
  rule is therefore checked by playing the attacker: `bounds` narrows every withheld cell to
  the interval the published cells and the sums allow (interval propagation over every
  equation, to a fixed point), and while one of them is narrowed to a single value another cell
  is withheld.

A rate is withheld (`WITHHELD`) when its numerator or denominator is from 1 to 10, or when a count
it is computed from is withheld (a published rate and numerator would give the denominator back).

The state of each cell depends only on the values of the cells it is added up with, so the same
cell is withheld alike in every answer showing it, whichever program, stratum or territory view
shows it (`results` always hands the whole breakdown in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

SMALL_MIN = 1
SMALL_MAX = 10
INFINITY = float("inf")


class State(StrEnum):
    EXACT = "exact"
    SMALL = "small"  # 1 to 10, shown "<11"
    COMPLEMENTARY = "complementary"  # withheld so that a small cell cannot be worked out
    WITHHELD = "withheld"  # a rate

    @property
    def suppressed(self) -> bool:
        return self is not State.EXACT


@dataclass(frozen=True)
class Equation:
    """`total` = the sum of `parts` (cells named by key)."""

    total: str
    parts: tuple[str, ...]

    @property
    def cells(self) -> tuple[str, ...]:
        return (self.total, *self.parts)


def is_small(value: int) -> bool:
    return SMALL_MIN <= value <= SMALL_MAX


def _known(value: int, state: State) -> tuple[float, float]:
    """What the attacker knows of a cell from the way it is shown."""
    if state is State.SMALL:
        return (SMALL_MIN, SMALL_MAX)
    if state is State.COMPLEMENTARY:
        return (SMALL_MAX + 1, INFINITY)
    return (value, value)


def bounds(values: Mapping[str, int], states: Mapping[str, State],
           equations: Sequence[Equation]) -> dict[str, tuple[float, float]]:
    """The interval of every cell that can be deduced from the published cells, the way each
    withheld one is shown and the sums (interval propagation to a fixed point)."""
    equations = nested(equations)
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    for key, value in values.items():
        low[key], high[key] = _known(value, states[key])
    for _ in range(100):
        changed = False
        for equation in equations:
            parts = equation.parts
            total = equation.total
            new_low = max(low[total], sum(low[p] for p in parts))
            new_high = min(high[total], sum(high[p] for p in parts))
            if (new_low, new_high) != (low[total], high[total]):
                low[total], high[total], changed = new_low, new_high, True
            for part in parts:
                others_low = sum(low[p] for p in parts if p != part)
                others_high = sum(high[p] for p in parts if p != part)
                part_low = max(low[part], low[total] - others_high)
                part_high = min(high[part], high[total] - others_low)
                if (part_low, part_high) != (low[part], high[part]):
                    low[part], high[part], changed = part_low, part_high, True
        if not changed:
            break
    return {key: (low[key], high[key]) for key in values}


def recoverable(values: Mapping[str, int], states: Mapping[str, State],
                equations: Sequence[Equation]) -> list[str]:
    """The withheld cells whose value the published figures determine."""
    found = bounds(values, states, equations)
    return sorted(key for key, state in states.items()
                  if state.suppressed and found[key][0] == found[key][1])


def _smallest(values: Mapping[str, int], states: Mapping[str, State],
              keys: Iterable[str]) -> str | None:
    candidates = [key for key in set(keys)
                  if states[key] is State.EXACT and values[key] > 0]
    return min(candidates, key=lambda key: (values[key], key)) if candidates else None


def nested(equations: Sequence[Equation]) -> list[Equation]:
    """The same equations with every breakdown included in a larger one replaced, in the larger
    one, by its total: T = a + b + c and U = a + b become T = U + c and U = a + b. Interval
    propagation over such a tree of sums is exact (it finds c = T - U); over the overlapping
    sums it would miss what their difference tells."""
    result: list[Equation] = []
    for equation in sorted(equations, key=lambda e: (len(e.parts), e.total)):
        parts = list(equation.parts)
        for smaller in result:
            if smaller.parts and set(smaller.parts) <= set(parts) and smaller.total not in parts:
                parts = [p for p in parts if p not in smaller.parts] + [smaller.total]
        result.append(Equation(equation.total, tuple(parts)))
    return result


def protect(values: Mapping[str, int], equations: Sequence[Equation] = ()) -> dict[str, State]:
    """The state of every cell: small cells withheld, then complementary cells until no withheld
    cell can be worked out from the rest. Breakdowns are either disjoint or included in one
    another (a table's columns, a sub-total of some strata)."""
    missing = {key for equation in equations for key in equation.cells} - set(values)
    if missing:
        raise KeyError(f"cells without a value: {sorted(missing)}")
    states = {key: State.SMALL if is_small(value) else State.EXACT
              for key, value in values.items()}
    while True:
        pinned = recoverable(values, states, equations)
        if not pinned:
            return states
        cell = pinned[0]
        related = [equation for equation in equations if cell in equation.cells]
        choice = (_smallest(values, states, (p for e in related for p in e.parts))
                  or _smallest(values, states, (e.total for e in related))
                  or _smallest(values, states, _component(cell, equations)))
        if choice is None:  # every cell it is added up with is withheld or zero already
            return states
        states[choice] = State.COMPLEMENTARY


def _component(cell: str, equations: Sequence[Equation]) -> set[str]:
    """Every cell linked to `cell` through the equations."""
    seen = {cell}
    frontier = [cell]
    while frontier:
        current = frontier.pop()
        for equation in equations:
            if current in equation.cells:
                for other in equation.cells:
                    if other not in seen:
                        seen.add(other)
                        frontier.append(other)
    return seen


def rate_state(numerator: int, denominator: int, components: Iterable[State]) -> State:
    """A rate is withheld when its numerator or denominator is 1 to 10 or when a count it is
    computed from is withheld."""
    if is_small(numerator) or is_small(denominator) or any(s.suppressed for s in components):
        return State.WITHHELD
    return State.EXACT
