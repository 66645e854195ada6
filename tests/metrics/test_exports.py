"""CSV files of the dashboard's tables (/metrics/<table>.csv): UTF-8 with BOM, `;` and a decimal
comma in French, `,` and a point in English, withheld cells as their marks, formula-safe text;
the same figures as the page and the API."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from coordinator.metrics import exports, services, tables
from tests.metrics.attacker import Attacker
from tests.metrics.conftest import NOW
from tests.metrics.test_attack import CURRENT, build

QUERY = f"period=custom&from={CURRENT[0]}&to={CURRENT[1]}"


def read_csv(response, delimiter: str) -> list[list[str]]:
    body = response.get_data(as_text=False).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=delimiter))


def council_tables(session, **codes):
    selection = services.select_figures(session, first=CURRENT[0], last=CURRENT[1],
                                        territory="DOUAISIS", **codes)
    return {t.key: t for t in tables.dashboard_tables(
        services.dashboard(session, selection, exact=False, now=NOW))}


def test_a_french_csv_file(logged_in, council, session, registry):
    build(registry)
    response = logged_in(council).get(f"/metrics/headline.csv?{QUERY}&program=HF")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "headline-2026-01-01-2026-06-30.csv" in response.headers["Content-Disposition"]
    rows = read_csv(response, ";")
    assert rows[0][:4] == ["Indicateur", "n", "sur N", "Taux (%)"]
    no_show = next(row for row in rows if row[0] == "Taux de rendez-vous non honorés")
    table = council_tables(session, program="HF")["headline"]
    expected = table.rows[0].cells[3]
    assert no_show[3] == expected.csv("fr") and "," in no_show[3] and "." not in no_show[3]
    assert all(len(row) == len(rows[0]) for row in rows)


def test_an_english_csv_file(logged_in, make_user, session, registry):
    build(registry)
    reader = make_user(role="council", territory_code="DOUAISIS", locale="en")
    response = logged_in(reader).get(f"/metrics/headline.csv?{QUERY}&program=HF")
    rows = read_csv(response, ",")
    assert rows[0][:4] == ["Figure", "n", "of N", "Rate (%)"]
    rates = [row[3] for row in rows[1:] if row[3] not in ("", "*")]
    assert rates and all("." in rate and "," not in rate for rate in rates)


def test_a_councils_csv_files_hold_marks_never_withheld_values(logged_in, council, session,
                                                                registry):
    build(registry)
    client = logged_in(council)
    expected = council_tables(session, program="HF")
    withheld = 0
    for key, table in expected.items():
        rows = read_csv(client.get(f"/metrics/{key}.csv?{QUERY}&program=HF"), ";")
        assert rows == table.csv_rows("fr"), key  # exactly the table of the page
        for row, written in zip(table.rows, rows[1:], strict=True):
            for cell, text in zip(row.cells, written, strict=True):
                if cell.suppressed:
                    withheld += 1
                    assert text in ("<11", "*")
    assert withheld > 10


def test_what_a_council_exports_gives_no_withheld_cell_away(logged_in, council, registry):
    """The attacker reads the population by stratum (this period and the previous one, with
    their totals and changes) and followed vs not followed (with the whole) from the CSV
    files of every program, and tries to recover a withheld count."""
    build(registry)
    client = logged_in(council)
    attacker = Attacker()

    def tell(name: str, text: str) -> None:
        if text in ("<11", "*"):
            attacker.hidden(name, text)
        elif text != "":
            attacker.published(name, int(text))

    for program in ("COPD", "DIAB", "HF", "POLY"):
        rows = read_csv(client.get(f"/metrics/population.csv?{QUERY}&program={program}"),
                        ";")[1:]
        strata = [row for row in rows if row[0] != "Total"]
        for column, period in ((1, "current"), (2, "previous")):
            for row in rows:
                tell(f"{program}|{period}|{row[0]}", row[column])
            attacker.total(f"{program}|{period}|Total",
                           [f"{program}|{period}|{row[0]}" for row in strata])
        for row in rows:  # change = current - previous: one more relation
            if row[3] not in ("", "*"):
                attacker.total(f"{program}|current|{row[0]}",
                               [f"{program}|previous|{row[0]}", f"{program}|change+|{row[0]}"]
                               ) if int(row[3]) >= 0 else attacker.total(
                    f"{program}|previous|{row[0]}",
                    [f"{program}|current|{row[0]}", f"{program}|change-|{row[0]}"])
                attacker.published(f"{program}|change{'+' if int(row[3]) >= 0 else '-'}|"
                                   f"{row[0]}", abs(int(row[3])))
        split = read_csv(client.get(f"/metrics/followed_vs_not.csv?{QUERY}&program={program}"),
                         ";")[1:]
        for column in (1, 2, 4, 5):
            names = [f"{program}|split|{row[0]}|{column}" for row in split]
            for name, row in zip(names, split, strict=True):
                tell(name, row[column])
            attacker.total(names[2], names[:2])
    assert attacker.withheld  # there is something to find
    assert attacker.recovered() == {}


def test_text_a_spreadsheet_would_run_is_quoted(logged_in, admin, session, registry):
    from coordinator.strata.models import Program, ProgramIndicator

    build(registry)
    program = session.query(Program).filter_by(code="HF").one()
    session.add(ProgramIndicator(program_id=program.id, code="own_indicator",
                                 label='=HYPERLINK("http://evil.test","x")',
                                 target_percent=Decimal(50)))
    session.commit()
    rows = read_csv(logged_in(admin).get(f"/metrics/indicators.csv?{QUERY}&program=HF"), ";")
    labels = [row[0] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://evil.test\",\"x\")" in labels
    assert not any(label.startswith(("=", "+", "-", "@")) for label in labels)
    # numbers are not quoted: a change may be negative
    assert exports.table_csv(tables.Table("t", "T", (
        tables.Column("a", "A", tables.Kind.TEXT), tables.Column("b", "B", tables.Kind.DELTA)),
        (tables.Row((tables.text("-x"), tables.Cell(tables.Kind.DELTA, -3))),)), "fr") == \
        "\ufeffA;B\r\n'-x;-3\r\n"


def test_csv_page_and_api_agree(logged_in, council, session, registry):
    build(registry)
    client = logged_in(council)
    api = client.get(f"/api/v1/metrics?from={CURRENT[0]}&to={CURRENT[1]}&program=HF").json
    rows = {row[0]: row for row in read_csv(
        client.get(f"/metrics/headline.csv?{QUERY}&program=HF"), ";")[1:]}
    page = client.get(f"/metrics/?{QUERY}&program=HF").get_data(as_text=True)

    def written(value, rate=False):
        if value is None:
            return None
        return f"{value * 100:.1f}".replace(".", ",") if rate else str(value)

    for label, (numerator, denominator, rate) in {
            "Taux de réhospitalisation à 30 jours": (
                api["readmission_30d"]["readmitted"], api["readmission_30d"]["index_stays"],
                api["readmission_30d"]["rate"]),
            "Suivi à 7 jours après la sortie": (
                api["followup_7d"]["followed_up"], api["followup_7d"]["index_stays"],
                api["followup_7d"]["rate"]),
            "Couverture par un PPCS": (
                api["care_plan_coverage"]["with_active_plan"],
                api["care_plan_coverage"]["eligible"], api["care_plan_coverage"]["rate"])
    }.items():
        row = rows[label]
        for text, value, is_rate in ((row[1], numerator, False), (row[2], denominator, False),
                                     (row[3], rate, True)):
            if value is None:
                assert text in ("<11", "*"), label  # withheld by the API: withheld here
            else:
                assert text == written(value, is_rate), label
    no_show = rows["Taux de rendez-vous non honorés"]
    assert no_show[1] == (written(api["no_show"]["no_show"]) or no_show[1])
    if api["no_show"]["rate"] is not None:
        assert no_show[3] == written(api["no_show"]["rate"], True)
        assert f"{no_show[3]}\u00a0%" in page
    population = {row[0]: row[1] for row in read_csv(
        client.get(f"/metrics/population.csv?{QUERY}&program=HF"), ";")[1:]}
    for code, value in api["population"]["by_stratum"].items():
        assert population[code] == (str(value) if value is not None else population[code])
        if value is None:
            assert population[code] in ("<11", "*")


def test_an_unknown_table_or_a_bad_selection(logged_in, council):
    client = logged_in(council)
    assert client.get(f"/metrics/nothing.csv?{QUERY}").status_code == 404
    response = client.get("/metrics/headline.csv?period=custom&from=2026-06-30&to=2026-01-01")
    assert response.status_code == 422
    assert response.get_data(as_text=True).startswith("to: ")


def test_an_export_is_audited(logged_in, council, registry):
    from tests.api.conftest import audit_entries

    build(registry)
    logged_in(council).get(f"/metrics/trends.csv?{QUERY}&program=HF")
    [entry] = audit_entries(entity_type="metrics_csv:trends")
    assert entry.details["program"] == "HF"


def test_every_table_has_its_csv_link_on_the_page(logged_in, admin, registry):
    build(registry)
    client = logged_in(admin)
    html = client.get(f"/metrics/?{QUERY}&territory=DOUAISIS").get_data(as_text=True)
    for key in exports.TABLE_PARTS:
        link = re.search(rf'href="([^"]+)"\s+data-testid="csv-{key}"', html)
        assert link, key
        response = client.get(link.group(1).replace("&amp;", "&"))
        assert response.status_code == 200 and response.mimetype == "text/csv", key
