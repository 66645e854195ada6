"""The charts (coordinator/metrics/charts.py): inline SVG without any script or remote
reference, titled, drawn from the table beside it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

from coordinator.metrics import charts, services, tables
from tests.metrics.conftest import NOW
from tests.metrics.test_attack import CURRENT, build

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def council_tables(app, session, registry):
    build(registry)
    selection = services.select_figures(session, first=CURRENT[0], last=CURRENT[1],
                                        territory="DOUAISIS", program="HF")
    figures = services.dashboard(session, selection, exact=False, now=NOW)
    with app.test_request_context():
        yield {t.key: t for t in tables.dashboard_tables(figures)}


def test_each_chart_is_self_contained_svg_with_a_title(council_tables):
    drawn = {key: charts.chart(table, "fr") for key, table in council_tables.items()}
    kinds = {council_tables[key].chart for key, svg in drawn.items() if svg is not None}
    assert kinds == {"pyramid", "trends", "bars"}
    for key, svg in drawn.items():
        if svg is None:
            continue
        assert "<script" not in svg.lower() and "javascript" not in svg.lower(), key
        assert "<style" not in svg, key  # the page's CSP refuses it: static/charts.css
        assert "<!--" not in svg, key
        urls = set(re.findall(r"https?://[^\s\"'<>)]+", svg))
        assert urls == {"http://www.w3.org/2000/svg"}, (key, urls)
        assert "href" not in svg, key
        root = ElementTree.fromstring(svg)  # noqa: S314 (our own SVG)
        assert root.tag == f"{SVG}svg"
        title = root[0]
        assert title.tag == f"{SVG}title" and title.text == str(council_tables[key].title)
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == title.get("id")


def test_the_same_figures_draw_the_same_bytes(council_tables):
    table = council_tables["population"]
    assert charts.chart(table, "fr") == charts.chart(table, "fr")
    assert 'id="chart-population"' in charts.chart(table, "fr")


def test_the_pyramid_has_a_bar_per_stratum_the_highest_on_top(council_tables):
    svg = charts.chart(council_tables["population"], "fr")
    positions = {label: float(y) for y, label in
                 re.findall(r'<text x="[^"]*" y="([0-9.]+)"[^>]*>(HF-\d)</text>', svg)}
    assert set(positions) == {"HF-1", "HF-2", "HF-3"}
    assert positions["HF-3"] < positions["HF-2"] < positions["HF-1"]  # y grows downwards


def test_a_withheld_value_is_a_gap_not_a_bar(council_tables):
    table = council_tables["population"]
    hf3 = next(i for i, row in enumerate(table.rows) if row.label.value == "HF-3")
    assert table.rows[hf3].cells[1].mark == "<11"
    values = [table.rows[r].cells[1].number for r in range(len(table.rows))]
    assert values[hf3] is None
    svg = charts.chart(table, "fr")
    # pygal writes each drawn value in a <desc class="value">: none for the withheld stratum.
    drawn = re.findall(r'<desc class="value">([^<]*)</desc>', svg)
    assert len(drawn) < 2 * 3  # two series of three strata, some of them withheld


def test_axes_are_written_in_the_readers_language(council_tables):
    french = charts.chart(council_tables["trends"], "fr")
    english = charts.chart(council_tables["trends"], "en")
    assert "janv. 2026" in french or "févr. 2026" in french
    assert "Jan 2026" in english or "Feb 2026" in english
    assert re.search(r">\d+\u00a0%<", french) and re.search(r">\d+%<", english)


def test_a_table_without_a_chart_draws_nothing(council_tables):
    assert charts.chart(council_tables["transitions"], "fr") is None


def test_the_static_stylesheet_is_up_to_date():
    """static/charts.css holds the rules pygal writes for our style (regenerate it with
    `python -c "from coordinator.metrics import charts; charts.write_stylesheet()"`)."""
    from pathlib import Path

    written = (Path(charts.__file__).parent.parent / "static" / "charts.css").read_text()
    assert written == charts.STYLESHEET_HEADER + charts.stylesheet()
    assert ".pygal-chart .graph > .background" in written


def test_a_chart_for_a_document_carries_its_style(council_tables):
    svg = charts.chart(council_tables["population"], "fr", embed_style=True)
    assert svg.count("<style") == 1 and ".pygal-chart .graph > .background" in svg
    assert "<script" not in svg
