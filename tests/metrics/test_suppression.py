"""The suppression rules on breakdowns built by hand, then on random ones against the attacker."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.metrics.suppression import Equation, State, protect, rate_state, recoverable
from tests.metrics.attacker import Attacker

E, S, C = State.EXACT, State.SMALL, State.COMPLEMENTARY
MARKS = {S: "<11", C: "*"}


def breakdown(total: str = "T", **parts: int) -> tuple[dict, list]:
    values = dict(parts)
    values[total] = sum(parts.values())
    return values, [Equation(total, tuple(parts))]


def test_counts_from_1_to_10_are_withheld():
    assert protect({"a": 0, "b": 1, "c": 10, "d": 11}) == {"a": E, "b": S, "c": S, "d": E}


def test_a_small_cell_of_a_breakdown_takes_the_next_smallest_with_it():
    values, equations = breakdown(a=5, b=40, c=30)
    assert protect(values, equations) == {"a": S, "b": E, "c": C, "T": E}


def test_a_zero_never_protects_a_small_cell():
    values, equations = breakdown(a=3, b=0, c=50)
    assert protect(values, equations) == {"a": S, "b": E, "c": C, "T": E}


def test_small_and_complementary_adding_up_to_12_take_a_third_cell():
    # a + b = 12 with a in 1..10 and b >= 11 would give a = 1, b = 11
    values, equations = breakdown(a=1, b=11, c=40)
    states = protect(values, equations)
    assert states == {"a": S, "b": C, "c": C, "T": E}
    assert recoverable(values, states, equations) == []


def test_two_small_cells_at_the_edge_of_their_range_take_a_third():
    # 1 + 1 = 2 with both in 1..10: both are 1
    values, equations = breakdown(a=1, b=1, c=50)
    assert protect(values, equations) == {"a": S, "b": S, "c": C, "T": E}
    values, equations = breakdown(a=4, b=5, c=50)  # 9: a and b each 1 to 8, not pinned
    assert protect(values, equations) == {"a": S, "b": S, "c": E, "T": E}


def test_the_total_is_withheld_when_no_cell_is_left():
    values, equations = breakdown(a=1, b=11, c=0)
    assert protect(values, equations) == {"a": S, "b": C, "c": E, "T": C}


def test_a_small_total_withholds_only_its_small_cells():
    values, equations = breakdown(a=3, b=0)
    assert protect(values, equations) == {"a": S, "b": E, "T": S}


def test_nested_breakdowns_the_table_of_a_program():
    # population = HF-1 + HF-2 + HF-3; eligible = HF-3 (the stratum requiring a plan)
    values = {"hf1": 50, "hf2": 40, "hf3": 5, "population": 95, "eligible": 5}
    equations = [Equation("population", ("hf1", "hf2", "hf3")), Equation("eligible", ("hf3",))]
    states = protect(values, equations)
    assert states == {"hf1": E, "hf2": C, "hf3": S, "population": E, "eligible": S}


def test_rates():
    assert rate_state(3, 40, [E, E]) is State.WITHHELD
    assert rate_state(30, 40, [E, C]) is State.WITHHELD
    assert rate_state(0, 7, [E]) is State.WITHHELD
    assert rate_state(0, 0, [E, E]) is E
    assert rate_state(12, 40, [E, E]) is E


def attack(values: dict, states: dict, equations: list[Equation]) -> dict:
    attacker = Attacker()
    for key, value in values.items():
        if states[key].suppressed:
            attacker.hidden(key, MARKS[states[key]])
        else:
            attacker.published(key, value)
    for equation in equations:
        attacker.total(equation.total, list(equation.parts))
    return attacker.recovered()


@st.composite
def tables(draw):
    """A total with 2 to 6 cells, and sometimes sub-totals of some of them: disjoint, or one
    inside the other (the shapes of the figures' tables)."""
    size = draw(st.integers(2, 6))
    cells = {f"c{i}": draw(st.sampled_from([0, 0, 1, 2, 5, 9, 10, 11, 12, 13, 20, 40]))
             for i in range(size)}
    values = dict(cells, T=sum(cells.values()))
    equations = [Equation("T", tuple(cells))]
    names = sorted(cells)
    first = draw(st.lists(st.sampled_from(names), unique=True, max_size=size - 1))
    if first:
        values["U"] = sum(cells[key] for key in first)
        equations.append(Equation("U", tuple(sorted(first))))
        pool = draw(st.sampled_from([[n for n in names if n not in first], first]))
        second = draw(st.lists(st.sampled_from(pool), unique=True, max_size=len(pool) - 1)) \
            if len(pool) > 1 else []
        if second:
            values["V"] = sum(cells[key] for key in second)
            equations.append(Equation("V", tuple(sorted(second))))
    return values, equations


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_withheld_cell_can_be_worked_out(table):
    values, equations = table
    states = protect(values, equations)
    assert all(states[key] is S for key, value in values.items() if 1 <= value <= 10)
    assert attack(values, states, equations) == {}, (values, states)


def test_without_complementary_cells_the_attacker_wins():
    values, equations = breakdown(a=5, b=40, c=30)
    primary = {key: S if 1 <= value <= 10 else E for key, value in values.items()}
    assert attack(values, primary, equations) == {"a": 5}


def test_an_indicator_is_met_close_or_not_met_against_its_target():
    from coordinator.metrics.results import Count, Indicator, Rate, TargetStatus

    def indicator(rate, target=0.75):
        return Indicator("flu", "Flu", Count(1), Count(1),
                         None if rate is None else Rate(rate), target)

    assert indicator(0.75).status is TargetStatus.MET
    assert indicator(0.72).status is TargetStatus.CLOSE
    assert indicator(0.70).status is TargetStatus.NOT_MET
    assert indicator(None).status is None
    assert indicator(0.5, target=None).status is None
    assert indicator(0.70).gap == pytest.approx(0.05)
