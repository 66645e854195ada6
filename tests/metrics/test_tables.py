"""The tables of the dashboard (coordinator/metrics/tables.py): the spec's figures in their cells,
withheld cells as their marks only, each figure written per locale."""

from __future__ import annotations

from datetime import date

import pytest

from coordinator.metrics import services, tables
from coordinator.metrics.results import Count, Indicator, Rate
from coordinator.metrics.suppression import State
from tests.metrics.conftest import NOW, figures_of
from tests.metrics.test_attack import CURRENT, build

FIRST, LAST = date(2026, 1, 1), date(2026, 6, 30)


def row_of(table: tables.Table, figure: str) -> tables.Row:
    return next(row for row in table.rows if row.params.get("figure") == figure)


def test_the_worked_example_in_the_tables(app, session, worked_example):
    result = figures_of(session, FIRST, LAST, program="HF", previous=True)
    population = tables.population(result)
    assert [(r.params.get("stratum"), r.cells[1].value) for r in population.rows] == [
        ("HF-1", 0), ("HF-2", 0), ("HF-3", 1), (None, 1)]
    assert population.rows[-1].total
    assert population.rows[2].params == {"stratum": "HF-3"}
    up, down = tables.transitions(result).rows
    assert (up.cells[1].value, down.cells[1].value) == (1, 0)
    headline = tables.headline(result)
    no_show = row_of(headline, "no_show")
    assert [no_show.cells[i].text("en") for i in (1, 2, 3)] == ["1", "3", "33.3%"]
    readmission = row_of(headline, "readmission_30d")
    assert [readmission.cells[i].value for i in (1, 2, 3)] == [1, 2, 0.5]
    follow_up = row_of(headline, "followup_7d")
    assert [follow_up.cells[i].value for i in (1, 2, 3)] == [0, 2, 0.0]
    [flu] = tables.indicators(result).rows
    assert [flu.cells[i].value for i in (1, 2, 3, 4)] == [1, 1, 1.0, 0.75]
    assert flu.cells[6].status == "met" and flu.cells[6].text() == "atteint"
    assert flu.cells[5].text("en") == "+25.0 pts"  # 25 points above its target


def test_the_previous_period_and_the_change(app, session, worked_example):
    result = figures_of(session, FIRST, LAST, program="HF", previous=True)
    headline = tables.headline(result)
    assert headline.columns[headline.column("previous_rate")].key == "previous_rate"
    no_show = row_of(headline, "no_show")
    previous = result.previous.no_show.rate.value
    change = no_show.cells[headline.column("change")]
    if previous is None:
        assert change.value is None and change.text("en") == "—"
    else:
        assert change.value == pytest.approx(1 / 3 - previous)


def test_a_change_is_withheld_when_either_value_is():
    shown, withheld = Rate(0.5), Rate(None, State.WITHHELD)
    assert tables.change(shown, withheld).mark == tables.RATE_MARK
    assert tables.change(withheld, shown).value is None
    assert tables.change(Count(12), Count(20)).value == -8
    assert tables.change(Count(12), Count(None, State.SMALL)).mark == "*"
    assert tables.change(Rate(0.5), Rate(0.25)).text("en") == "+25.0 pts"
    assert tables.change(Rate(0.5), Rate(0.25)).text("fr") == "+25,0 pts"
    assert tables.change(Rate(0.5), Rate(None)).text("en") == "—"  # nothing to compare


@pytest.mark.parametrize(("locale", "page", "csv", "thousands"), [
    ("fr", "33,3\u00a0%", "33,3", "1\u202f234"), ("en", "33.3%", "33.3", "1,234")])
def test_cells_are_written_per_locale(app, locale, page, csv, thousands):
    with app.test_request_context():
        assert tables.rate(Rate(1 / 3)).text(locale) == page
        assert tables.rate(Rate(1 / 3)).csv(locale) == csv
        assert tables.count(Count(1234)).text(locale) == thousands
        assert tables.count(Count(1234)).csv(locale) == "1234"
        assert tables.month(date(2026, 3, 1)).csv(locale) == "2026-03"


def test_withheld_cells_keep_only_their_mark(app):
    small, complementary = Count(None, State.SMALL), Count(None, State.COMPLEMENTARY)
    assert (tables.count(small).value, tables.count(small).text("fr"),
            tables.count(small).csv("fr")) == (None, "<11", "<11")
    assert tables.count(complementary).text("en") == "*"
    withheld = tables.rate(Rate(None, State.WITHHELD))
    assert (withheld.value, withheld.text("fr"), withheld.number) == (None, "*", None)
    assert tables.rate(Rate(None)).text("fr") == "—"  # a zero denominator: empty, not withheld


def in_order(table: tables.Table) -> list[tables.Row]:
    if table.key != "drilldown":
        return list(table.rows)
    return sorted(table.rows, key=lambda row: (sorted(row.params.items()),
                                               str(row.cells[4].value)))


def test_a_councils_tables_hold_no_withheld_value(app, session, registry):
    build(registry)
    selection = services.select_figures(session, first=CURRENT[0], last=CURRENT[1],
                                        territory="DOUAISIS", program="HF")
    exact = services.dashboard(session, selection, exact=True, now=NOW)
    council = services.dashboard(session, selection, exact=False, now=NOW)
    exact_tables = {t.key: t for t in tables.dashboard_tables(exact)}
    withheld = 0
    for table in tables.dashboard_tables(council):
        twin = exact_tables[table.key]
        assert len(table.rows) == len(twin.rows), table.key
        # (the drill-down's order depends on the rates shown: compare its rows by selection)
        for row, exact_row in zip(in_order(table), in_order(twin), strict=True):
            for cell, exact_cell in zip(row.cells, exact_row.cells, strict=True):
                if cell.suppressed:
                    withheld += 1
                    assert cell.value is None and cell.number is None
                    assert cell.text("fr") == cell.csv("fr") == cell.mark
                else:
                    assert cell.value == exact_cell.value, (table.key, row)
    assert withheld > 10  # the registry has small cells in every kind of breakdown
    population = {t.key: t for t in tables.dashboard_tables(council)}["population"]
    hf3 = next(row for row in population.rows if row.params.get("stratum") == "HF-3")
    assert hf3.cells[1].text("fr") == "<11"


def test_the_drill_down_shows_the_worst_gap_first(app, session, registry):
    build(registry)
    selection = services.select_figures(session, first=CURRENT[0], last=CURRENT[1],
                                        territory="DOUAISIS")
    rows = services.drill_down(session, selection, exact=True, now=NOW)
    table = tables.drilldown(rows)
    gaps = [row.cells[table.column("gap")].value for row in table.rows]
    shown = [gap for gap in gaps if gap is not None]
    assert shown == sorted(shown)  # rate minus target: the most negative first
    assert gaps[:len(shown)] == shown  # without a rate to compare: last
    hf = next(row for row in table.rows if row.params == {"program": "HF"})
    assert hf.cells[table.column("population")].value == 43
    hf1 = next(row for row in table.rows if row.params == {"program": "HF", "stratum": "HF-1"})
    # HF-1: 25 patients aged 65+, 20 vaccinated: 80 % against 75 %.
    assert hf1.cells[table.column("rate")].value == pytest.approx(0.8)
    assert hf1.cells[table.column("status")].status == "met"


def test_the_drill_down_agrees_with_each_program_and_stratum(app, session, registry):
    build(registry)
    selection = services.select_figures(session, first=CURRENT[0], last=CURRENT[1],
                                        territory="DOUAISIS")
    for exact in (True, False):
        for row in services.drill_down(session, selection, exact=exact, now=NOW):
            codes = {"program": row.program} if row.stratum is None else {
                "stratum": row.stratum}
            alone = figures_of(session, *CURRENT, exact=exact, territory="DOUAISIS", **codes)
            assert row.population == alone.population.count, codes
            assert row.coverage == alone.care_plan_coverage.rate, codes
            assert row.indicators == alone.indicators, codes


def test_an_indicator_without_a_rate_sorts_last():
    rows = [tables.DrillDownRow("A", None, Count(0), Rate(None), (
                Indicator("flu", "Flu", Count(0), Count(0), Rate(None), 0.75),)),
            tables.DrillDownRow("B", None, Count(40), Rate(0.5), (
                Indicator("flu", "Flu", Count(20), Count(40), Rate(0.5), 0.75),)),
            tables.DrillDownRow("C", None, Count(40), Rate(0.5), (
                Indicator("flu", "Flu", Count(36), Count(40), Rate(0.9), 0.75),))]
    table = tables.drilldown(rows)
    assert [row.cells[0].value for row in table.rows] == ["B", "C", "A"]
