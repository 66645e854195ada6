"""The registry dashboard (/metrics/): who reads which figures, what the page shows (the tables
of metrics/tables.py, withheld cells as their marks), bad input on its field, audited reads, and
a number of statements that does not grow with the registry."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest

from coordinator.metrics import services, tables
from tests.metrics.conftest import NOW
from tests.metrics.test_attack import CURRENT, build

PAGE = "/metrics/"
PERIOD = f"period=custom&from={CURRENT[0]}&to={CURRENT[1]}"


class TableReader(HTMLParser):
    """The text of each cell of each dashboard table (`data-table`), row by row."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: dict[str, list[str | None]] = {}
        self._table = None
        self._row = None
        self._cell = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table], self.links[self._table] = [], []
        elif self._table and tag == "tbody":
            self._in_body = True
        elif self._table and self._in_body and tag == "tr":
            self._row = []
            self.tables[self._table].append(self._row)
            self.links[self._table].append(None)
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []
        elif self._cell is not None and tag == "a":
            self.links[self._table][-1] = attrs.get("href")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(re.sub(r"[ \t\r\n]+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_tables(html: str) -> TableReader:
    reader = TableReader()
    reader.feed(html)
    return reader


def page_text(cell: tables.Cell) -> str:
    """A cell as the page writes it (the status badge adds its symbol)."""
    text = cell.text("fr")
    symbol = {"met": "✓", "close": "≈", "not_met": "✗"}.get(
        "" if cell.suppressed or cell.status is None else cell.status)
    if cell.kind is tables.Kind.STATUS and not cell.suppressed and cell.status is None:
        return "—"
    return f"{symbol} {text}" if symbol else text


def dashboard_of(session, user_exact: bool, **codes):
    selection = services.select_figures(session, first=CURRENT[0], last=CURRENT[1], **codes)
    return {t.key: t for t in tables.dashboard_tables(
        services.dashboard(session, selection, exact=user_exact, now=NOW))}


def drill_key(row: tables.Row) -> tuple:
    """A drill-down row by what it is (its order depends on the rates shown)."""
    return (*sorted(row.params.items()), str(row.cells[4].value))


def test_a_council_sees_its_territory_with_small_cells_withheld(logged_in, council, session,
                                                                 registry):
    build(registry)
    response = logged_in(council).get(f"{PAGE}?{PERIOD}&program=HF")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "DOUAISIS" in html and 'data-testid="suppression-note"' in html
    shown = read_tables(html).tables
    council_tables = dashboard_of(session, False, territory="DOUAISIS", program="HF")
    exact_tables = dashboard_of(session, True, territory="DOUAISIS", program="HF")
    assert set(shown) == set(council_tables)
    withheld = 0
    for key, table in council_tables.items():
        assert len(shown[key]) == len(table.rows), key
        exact_rows = {drill_key(r): r for r in exact_tables[key].rows} \
            if key == "drilldown" else None
        for index, (row, texts) in enumerate(zip(table.rows, shown[key], strict=True)):
            assert texts == [page_text(cell) for cell in row.cells], (key, index)
            twin = exact_rows[drill_key(row)] if exact_rows else exact_tables[key].rows[index]
            for cell, exact, text in zip(row.cells, twin.cells, texts, strict=True):
                if cell.suppressed:
                    withheld += 1
                    assert text == cell.mark, (key, index)
                    if exact.value is not None:  # the exact figure is not what is shown
                        assert text != page_text(exact), (key, index)
    assert withheld > 10
    assert "&lt;11" in html and ">*<" in html


def test_a_case_manager_reads_exact_figures_and_may_narrow_to_their_caseload(
        logged_in, case_manager, session, registry):
    build(registry)
    mine = registry.patients(3, ("HF-3", date(2025, 1, 1)), case_manager_id=case_manager.id)
    client = logged_in(case_manager)
    html = client.get(f"{PAGE}?{PERIOD}&program=HF").get_data(as_text=True)
    assert 'data-testid="suppression-note"' not in html and "&lt;11" not in html
    shown = read_tables(html).tables
    exact = dashboard_of(session, True, territory="DOUAISIS", program="HF")
    assert shown["population"] == [[page_text(c) for c in r.cells]
                                   for r in exact["population"].rows]
    assert 'name="caseload"' in html
    response = client.get(f"{PAGE}?{PERIOD}&program=HF&caseload=y")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    population = read_tables(html).tables["population"]
    assert population[-1][:2] == ["Total", str(len(mine))]  # their own patients only
    assert "comparison" not in read_tables(html).tables  # a caseload is not compared
    heading = re.search(r'data-testid="selection">(.*?)</h2>', html, re.S).group(1)
    assert "ma file active" in heading


def test_an_administrator_reads_any_territory_or_all(logged_in, admin, registry):
    build(registry)
    client = logged_in(admin)
    everyone = read_tables(client.get(f"{PAGE}?{PERIOD}&program=HF").get_data(as_text=True))
    douaisis = read_tables(client.get(f"{PAGE}?{PERIOD}&program=HF&territory=DOUAISIS")
                           .get_data(as_text=True))
    cornouaille = client.get(f"{PAGE}?{PERIOD}&program=HF&territory=CORNOUAILLE")
    assert cornouaille.status_code == 200
    total = {key: rows[-1][1] for key, rows in (("all", everyone.tables["population"]),
                                                ("douaisis", douaisis.tables["population"]))}
    assert total == {"all": "77", "douaisis": "43"}  # 43 + 34 in CORNOUAILLE
    # every territory's detail is linked from the comparison
    assert all(link for link in everyone.links["comparison"])


def test_a_council_opens_only_its_own_territory(logged_in, council, registry):
    build(registry)
    client = logged_in(council)
    assert client.get(f"{PAGE}?{PERIOD}&territory=CORNOUAILLE").status_code == 403
    assert client.get(f"/metrics/headline.csv?{PERIOD}&territory=CORNOUAILLE"
                      ).status_code == 403
    html = client.get(f"{PAGE}?{PERIOD}").get_data(as_text=True)
    reader = read_tables(html)
    compared = dict(zip([row[0] for row in reader.tables["comparison"]],
                        reader.links["comparison"], strict=True))
    assert len(compared) == 5  # every territory is compared, withheld alike
    assert compared["DOUAISIS"] is not None and "territory=DOUAISIS" in compared["DOUAISIS"]
    assert [code for code, link in compared.items() if link] == ["DOUAISIS"]
    # the territory chooser offers their own territory only
    assert 'value="CORNOUAILLE"' not in html


@pytest.mark.parametrize("role", ["gp", "professional"])
def test_other_roles_read_no_figures(logged_in, make_user, role):
    client = logged_in(make_user(role=role, territory_code="DOUAISIS"))
    assert client.get(f"{PAGE}?{PERIOD}").status_code == 403
    assert client.get(f"/metrics/population.csv?{PERIOD}").status_code == 403


def test_the_default_is_the_last_whole_month_of_the_readers_territory(logged_in, council):
    from coordinator.core.time import local_today
    from coordinator.metrics.forms import last_month
    from coordinator.metrics.periods import month_end

    first = last_month(local_today())
    response = logged_in(council).get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    heading = re.search(r'data-testid="selection">(.*?)</h2>', html, re.S).group(1)
    assert "DOUAISIS" in heading
    assert str(first.year) in heading and str(month_end(first).day) in heading


@pytest.mark.parametrize(("query", "field", "message"), [
    ("period=custom&from=2026-06-30&to=2026-01-01", "to", "précède son début"),
    ("period=custom&from=2020-01-01&to=2025-01-01", "to", "5 ans"),
    ("period=custom&from=01/01/2026&to=2026-06-30", "from", ""),
    ("period=custom&from=2026-02-30&to=2026-06-30", "from", ""),
    ("period=custom&to=2026-06-30", "from", "premier jour"),
    ("period=year&year=abc", "year", ""),
    ("period=year&year=99999", "year", ""),
    ("period=month&year=2026&month=13", "month", ""),
    ("period=month&year=2026&month=x", "month", ""),
    ("period=weekly&year=2026", "period", ""),
    ("period=custom&from=1800-01-01&to=2026-06-30", "from", ""),
    ("period=year&year=2026&territory=ATLANTIS", "territory", "ATLANTIS"),
    ("period=year&year=2026&program=NOPE", "program", "NOPE"),
    ("period=year&year=2026&stratum=NOPE-1", "stratum", "NOPE-1"),
    ("period=year&year=2026&program=HF&stratum=DIAB-1", "stratum", "DIAB-1"),
])
def test_bad_input_is_shown_on_its_field(logged_in, admin, query, field, message):
    response = logged_in(admin).get(f"{PAGE}?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<div id="{field}-error"[^>]*>(.*?)</div>', html, re.S)
    assert error, f"no error on {field}"
    assert message in error.group(1)
    assert f'id="{field}"' in html and 'aria-invalid="true"' in html
    assert 'data-table=' not in html  # no figure for a wrong selection


def test_a_month_a_quarter_and_a_year(logged_in, admin):
    client = logged_in(admin)
    for query, first, last in (("period=month&year=2026&month=2", "1 février 2026",
                                "28 février 2026"),
                               ("period=quarter&year=2026&quarter=2", "1 avril 2026",
                                "30 juin 2026"),
                               ("period=year&year=2025", "1 janvier 2025",
                                "31 décembre 2025")):
        html = client.get(f"{PAGE}?{query}").get_data(as_text=True)
        heading = re.search(r'data-testid="selection">(.*?)</h2>', html, re.S).group(1)
        assert first in heading and last in heading, (query, heading)


def test_the_drill_down_links_set_the_program_and_stratum(logged_in, admin, registry):
    build(registry)
    client = logged_in(admin)
    reader = read_tables(client.get(f"{PAGE}?{PERIOD}&territory=DOUAISIS")
                         .get_data(as_text=True))
    links = reader.links["drilldown"]
    assert all(links)
    stratum_link = next(link for link in links if "stratum=HF-3" in link)
    assert "program=HF" in stratum_link and "territory=DOUAISIS" in stratum_link
    assert "from=2026-01-01" in stratum_link.replace("%2D", "-")
    drilled = client.get(stratum_link.replace("&amp;", "&"))
    assert drilled.status_code == 200
    heading = re.search(r'data-testid="selection">(.*?)</h2>', drilled.get_data(as_text=True),
                        re.S).group(1)
    assert "HF-3" in heading


def test_reads_are_audited(logged_in, council, registry):
    from tests.api.conftest import audit_entries

    build(registry)
    logged_in(council).get(f"{PAGE}?{PERIOD}&program=HF")
    [entry] = audit_entries(entity_type="metrics_dashboard")
    assert entry.actor_user_id == council.id
    assert entry.details["program"] == "HF" and entry.details["territory"] == "DOUAISIS"
    assert entry.details["from"] == "2026-01-01"
    assert len(audit_entries(entity_type="metrics_comparison")) == 1


def test_the_councils_home_page_leads_to_the_dashboard(logged_in, council):
    html = logged_in(council).get("/").get_data(as_text=True)
    assert 'data-testid="open-dashboard"' in html and 'href="/metrics/"' in html
    assert "seront affichés ici" not in html and "will be shown here" not in html


def test_the_page_costs_the_same_statements_whatever_the_rows(logged_in, admin, registry,
                                                               count_queries):
    client = logged_in(admin)
    url = f"{PAGE}?{PERIOD}&territory=DOUAISIS"
    registry.patients(5, ("HF-1", date(2025, 1, 1)))
    client.get(url)  # warm (the session's first statements)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    build(registry)
    many = registry.patients(50, ("HF-2", date(2025, 1, 1)), ("HF-3", date(2026, 2, 1)))
    for patient in many[:20]:
        registry.appointment(patient, __import__("datetime").datetime(2026, 3, 3, 10))
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert large.count == small.count, large.report()
    assert small.count < 60, small.report()  # the services are set-based


def test_the_dashboard_prints_its_selection_as_the_council_report(client, logged_in, council):
    """#14 item 7: "the demo council ... prints": the page links the report of its selection."""
    import re

    page = logged_in(council).get("/metrics/?period=custom&from=2026-01-01&to=2026-06-30")
    body = page.get_data(as_text=True)
    link = re.search(r'href="([^"]+)" data-testid="print-report"', body)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert "from=2026-01-01" in url and "to=2026-06-30" in url
    printed = client.get(url)
    assert printed.status_code in (200, 302), printed.status_code
