"""The dashboard's charts: SVG drawn on the server from a `tables.Table`, the same markup in the
page and in the printed report.

Why pygal: it is maintained, pure Python (no native library, no browser, nothing to install
beside the wheel) and writes SVG directly, with real `<text>` that the page's reader can select
and that WeasyPrint draws; a chart is a few lines per kind. Its interactivity is JavaScript that
we do not want: the charts are rendered with `js=[]` (no script fetched from its CDN) and the
inline configuration `<script>` pygal always writes, its comments (which carry URLs and the
date) are removed from the tree before it is serialized; the chart's id is the table's key
rather than a random one, so that the same figures give the same bytes (the printed report's
cache is keyed by the HTML). The result has no script, no URL but the SVG namespace, a
`<title>` naming it (`role="img"`), and its values are always in the table beside it: a chart
is never the only place a figure is shown. A withheld or empty value is a gap in the chart.

Styles: the pages' Content-Security-Policy (`style-src 'self'`) refuses the `<style>` pygal
writes in each SVG, so it is removed too and the page links `static/charts.css`, the same rules
for every chart (one `Style`, one set of options), scoped by the `pygal-chart` class instead of
each chart's id (`stylesheet()` writes it; a test checks the file is up to date). A document
without that policy (the printed report: WeasyPrint reads the SVG on its own) asks for the
rules inside the SVG with `embed_style=True`.

matplotlib was the other candidate: heavier (numpy, a font cache, text as paths to keep the
SVG self-contained) for charts this simple.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from typing import Any

import pygal
from babel import Locale
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup
from pygal.style import Style

from coordinator.metrics.tables import Kind, Table, percent_pattern, resolve_locale

SVG_NAMESPACE = "http://www.w3.org/2000/svg"

STYLE = Style(
    background="transparent", plot_background="transparent",
    foreground="#212529", foreground_strong="#212529", foreground_subtle="#6c757d",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
                "sans-serif",
    # Colour-blind-safe (Okabe-Ito), the first two far apart for "this period / previous".
    colors=("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"),
    title_font_size=16, label_font_size=12, major_label_font_size=12, legend_font_size=12,
    value_font_size=12, tooltip_font_size=12,
)

ElementTree.register_namespace("", SVG_NAMESPACE)


def _formatter(table: Table, locale: Locale | str) -> Callable[[float | None], str]:
    kinds = {table.columns[i].kind for i in table.plotted}
    if kinds <= {Kind.RATE, Kind.POINTS}:
        return lambda value: "" if value is None else format_percent(
            value, percent_pattern(locale, 0), locale=locale)
    return lambda value: "" if value is None else format_decimal(value, locale=locale)


# The options every chart shares (its stylesheet depends on them).
_OPTIONS: dict[str, Any] = {
    "legend_at_bottom": True, "truncate_legend": -1, "truncate_label": -1, "width": 800,
    "explicit_size": False, "margin": 10, "print_values": False, "include_x_axis": True}


def _config(table: Table, locale: Locale | str, **options: Any) -> dict[str, Any]:
    return dict(js=[], disable_xml_declaration=True, style=STYLE, title=str(table.title),
                height=options.pop("height", 400), value_formatter=_formatter(table, locale),
                **_OPTIONS, **options)


def _series(chart: pygal.graph.graph.Graph, table: Table, rows: list[int]) -> None:
    for index in table.plotted:
        chart.add(str(table.columns[index].title),
                  [table.rows[r].cells[index].number for r in rows])


def _prune(element: ElementTree.Element) -> None:
    """Remove every comment, processing instruction, script and style under `element`."""
    for child in list(element):
        if not isinstance(child.tag, str) or child.tag.rsplit("}", 1)[-1] in ("script",
                                                                              "style"):
            element.remove(child)
        else:
            _prune(child)


STYLESHEET_HEADER = ("/* Written by coordinator.metrics.charts.stylesheet() (pygal): "
                     "do not edit by hand. */\n")


def stylesheet() -> str:
    """The rules of every chart, scoped by the `pygal-chart` class (static/charts.css)."""
    chart = pygal.Bar(js=[], disable_xml_declaration=True, style=STYLE, **_OPTIONS)
    chart.uuid = "stylesheet"
    chart.add("", [1])
    root = chart.render_tree()
    rules = "".join(element.text or "" for element in root.iter()
                    if isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] == "style")
    return rules.replace("#chart-stylesheet", ".pygal-chart").replace("}", "}\n")


def write_stylesheet() -> None:
    """Write static/charts.css (after a change of `STYLE`, `_OPTIONS` or pygal)."""
    from pathlib import Path

    path = Path(__file__).parent.parent / "static" / "charts.css"
    path.write_text(STYLESHEET_HEADER + stylesheet(), encoding="utf-8")


def _clean(chart: pygal.graph.graph.Graph, table: Table, embed_style: bool) -> Markup:
    """The SVG without any script, style or comment, with a `<title>` first, as markup."""
    chart.uuid = table.key  # the svg's id: chart-<key>
    root = chart.render_tree()
    _prune(root)
    title_id = f"chart-{table.key}-title"
    title = ElementTree.Element("title", {"id": title_id})
    title.text = str(table.title)
    root.insert(0, title)
    if embed_style:
        style = ElementTree.Element("style", {"type": "text/css"})
        style.text = stylesheet()
        root.insert(1, style)
    root.set("role", "img")
    root.set("aria-labelledby", title_id)
    # Safe markup: ElementTree escapes every text and attribute it writes (labels, the title).
    # `>` needs no escape in XML: written as `&gt;`, the style's child selectors (`.graph >
    # .background`) would not be read as such by an HTML page, and the backgrounds turn black.
    svg = ElementTree.tostring(root, encoding="unicode", method="xml").replace("&gt;", ">")
    return Markup(svg)  # noqa: S704


def _body_rows(table: Table) -> list[int]:
    return [i for i, row in enumerate(table.rows) if not row.total]


def pyramid(table: Table, locale: Locale | str | None = None,
            embed_style: bool = False) -> Markup:
    """The population by stratum, one horizontal bar per stratum, the highest level on top."""
    where = resolve_locale(locale)
    chart = pygal.HorizontalBar(**_config(table, where))
    rows = _body_rows(table)  # by level, lowest first: pygal draws the first at the bottom
    chart.x_labels = [table.rows[r].label.text(where) for r in rows]
    _series(chart, table, rows)
    return _clean(chart, table, embed_style)


def trends(table: Table, locale: Locale | str | None = None,
           embed_style: bool = False) -> Markup:
    """Each rate month by month: one line per rate."""
    where = resolve_locale(locale)
    chart = pygal.Line(**_config(table, where, x_label_rotation=30, range=(0, 1),
                                 allow_interruptions=True, height=420))
    rows = list(range(len(table.rows)))
    chart.x_labels = [table.rows[r].label.text(where) for r in rows]
    _series(chart, table, rows)
    return _clean(chart, table, embed_style)


def bars(table: Table, locale: Locale | str | None = None,
         embed_style: bool = False) -> Markup:
    """Vertical bars, a group per row (the whole left out), a colour per plotted column."""
    where = resolve_locale(locale)
    rates = {table.columns[i].kind for i in table.plotted} <= {Kind.RATE}
    options = {"range": (0, 1)} if rates else {}
    chart = pygal.Bar(**_config(table, where, **options))
    rows = _body_rows(table)
    chart.x_labels = [table.rows[r].label.text(where) for r in rows]
    _series(chart, table, rows)
    return _clean(chart, table, embed_style)


CHARTS: dict[str, Callable[[Table, Locale | str | None, bool], Markup]] = {
    "pyramid": pyramid, "trends": trends, "bars": bars,
}


def chart(table: Table, locale: Locale | str | None = None, *,
          embed_style: bool = False) -> Markup | None:
    """The table's chart, or None when it has none."""
    if table.chart is None:
        return None
    return CHARTS[table.chart](table, locale, embed_style)
