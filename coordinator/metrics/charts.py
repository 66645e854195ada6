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


def _config(table: Table, locale: Locale | str, **options: Any) -> dict[str, Any]:
    return dict(
        js=[], disable_xml_declaration=True, style=STYLE, title=str(table.title),
        legend_at_bottom=True, truncate_legend=-1, truncate_label=-1, width=800,
        height=options.pop("height", 400), explicit_size=False, margin=10,
        value_formatter=_formatter(table, locale), print_values=False,
        include_x_axis=True, **options)


def _series(chart: pygal.graph.graph.Graph, table: Table, rows: list[int]) -> None:
    for index in table.plotted:
        chart.add(str(table.columns[index].title),
                  [table.rows[r].cells[index].number for r in rows])


def _clean(chart: pygal.graph.graph.Graph, table: Table) -> Markup:
    """The SVG without any script or comment, with a `<title>` first, as markup."""
    chart.uuid = table.key  # the svg's id: chart-<key>; its style is scoped to it
    root = chart.render_tree()

    def prune(element: ElementTree.Element) -> None:
        for child in list(element):
            if not isinstance(child.tag, str) or child.tag.rsplit("}", 1)[-1] == "script":
                element.remove(child)  # a comment, a processing instruction, a script
            else:
                prune(child)

    prune(root)
    title_id = f"chart-{table.key}-title"
    title = ElementTree.Element("title", {"id": title_id})
    title.text = str(table.title)
    root.insert(0, title)
    root.set("role", "img")
    root.set("aria-labelledby", title_id)
    # Safe markup: ElementTree escapes every text and attribute it writes (labels, the title).
    return Markup(ElementTree.tostring(root, encoding="unicode", method="xml"))  # noqa: S704


def _body_rows(table: Table) -> list[int]:
    return [i for i, row in enumerate(table.rows) if not row.total]


def pyramid(table: Table, locale: Locale | str | None = None) -> Markup:
    """The population by stratum, one horizontal bar per stratum, the highest level on top."""
    where = resolve_locale(locale)
    chart = pygal.HorizontalBar(**_config(table, where))
    rows = _body_rows(table)  # by level, lowest first: pygal draws the first at the bottom
    chart.x_labels = [table.rows[r].label.text(where) for r in rows]
    _series(chart, table, rows)
    return _clean(chart, table)


def trends(table: Table, locale: Locale | str | None = None) -> Markup:
    """Each rate month by month: one line per rate."""
    where = resolve_locale(locale)
    chart = pygal.Line(**_config(table, where, x_label_rotation=30, range=(0, 1),
                                 allow_interruptions=True, height=420))
    rows = list(range(len(table.rows)))
    chart.x_labels = [table.rows[r].label.text(where) for r in rows]
    _series(chart, table, rows)
    return _clean(chart, table)


def bars(table: Table, locale: Locale | str | None = None) -> Markup:
    """Vertical bars, a group per row (the whole left out), a colour per plotted column."""
    where = resolve_locale(locale)
    rates = {table.columns[i].kind for i in table.plotted} <= {Kind.RATE}
    options = {"range": (0, 1)} if rates else {}
    chart = pygal.Bar(**_config(table, where, **options))
    rows = _body_rows(table)
    chart.x_labels = [table.rows[r].label.text(where) for r in rows]
    _series(chart, table, rows)
    return _clean(chart, table)


CHARTS: dict[str, Callable[[Table, Locale | str | None], Markup]] = {
    "pyramid": pyramid, "trends": trends, "bars": bars,
}


def chart(table: Table, locale: Locale | str | None = None) -> Markup | None:
    """The table's chart, or None when it has none."""
    if table.chart is None:
        return None
    return CHARTS[table.chart](table, locale)
