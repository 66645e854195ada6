"""The dashboard's tables as CSV files: one writer for every table (`tables.Table`).

UTF-8 with a byte order mark (a spreadsheet then reads the accents right); in French `;`
between the cells and a decimal comma, in English `,` and a decimal point; a withheld cell is
its mark (`<11`, `*`), never a value. Every text a person wrote (a label, a territory's or an
indicator's name, a heading) goes through `core.csvutil.safe_cell`, so that a spreadsheet
never runs it as a formula; numbers are written by us and are never formulas.
"""

from __future__ import annotations

import csv
import io

from coordinator.core.csvutil import safe_cell
from coordinator.metrics.tables import Kind, Table

BOM = "\ufeff"

# Which part of `services.dashboard` each table is made of.
TABLE_PARTS = {
    "population": "result", "transitions": "result", "headline": "result",
    "indicators": "result", "followed_vs_not": "result", "trends": "trends",
    "drilldown": "drilldown", "comparison": "comparison",
}


def delimiter(locale: str) -> str:
    """`;` where the decimal separator is a comma (French), else `,`."""
    return ";" if locale.split("_")[0].split("-")[0] == "fr" else ","


def table_csv(table: Table, locale: str) -> str:
    """The table's header and rows, as a CSV file's text (with its BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter(locale), lineterminator="\r\n")
    header, *rows = table.csv_rows(locale)
    writer.writerow([safe_cell(title) for title in header])
    for row, written in zip(table.rows, rows, strict=True):
        writer.writerow([safe_cell(text) if cell.kind in (Kind.TEXT, Kind.STATUS) else text
                         for cell, text in zip(row.cells, written, strict=True)])
    return BOM + buffer.getvalue()


def error_text(errors: dict[str, list[str]]) -> str:
    """What a CSV request with a wrong parameter answers (422): each parameter's messages."""
    return "".join(f"{name}: {' '.join(messages)}\n" for name, messages in errors.items())
