"""The printed council report: what its PDF says (selection, figures, definitions, print date),
what it withholds for a council, its audit, the background print of a large selection, who
may print it, and bad input."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.metrics import charts, services, tables
from coordinator.printing.models import BatchStatus, PrintBatch, PrintKind
from coordinator.work import worker
from coordinator.work.models import WorkItem

URL = "/metrics/report/report.pdf"
PERIOD = "from=2026-01-01&to=2026-06-30"
EN = {"Accept-Language": "en"}


def text_of(pdf: bytes) -> str:
    """The PDF's text, whitespace runs as one space (pypdf's extraction)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def _pdf(client, query: str, headers=EN) -> str:
    response = client.get(f"{URL}?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/pdf"
    return text_of(response.data)


def signed_in(app, user):
    """A client of its own, signed in as `user`."""
    client = app.test_client()
    assert client.login(user.email).status_code == 302
    return client


def _audits(session, entity_type="metrics_report"):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.entity_type == entity_type)
                                .order_by(AuditEntry.id)))


@pytest.fixture
def small_cells(registry):
    """DOUAISIS, program HF on 2026-06-30: 15 patients in HF-1, 1 in HF-2 (a small cell),
    12 in HF-3 (its complement in the breakdown by stratum), 28 in all."""
    registry.patients(15, ("HF-1", date(2025, 6, 1)))
    registry.patients(12, ("HF-3", date(2025, 6, 1)))
    registry.patients(1, ("HF-2", date(2025, 6, 1)))
    return registry


def page_rows(session, table_of, *, exact: bool = True, locale: str = "en", **codes):
    """The rows of one of the page's tables (`tables.headline`, ...), as the page writes
    them, each as one string."""
    selection = services.select_figures(session, first=date(2026, 1, 1),
                                        last=date(2026, 6, 30), **codes)
    result = services.registry_metrics(session, selection, exact=exact, previous=True)
    with force_locale(locale):
        return [re.sub(r"\s+", " ", " ".join(cell.text(locale) for cell in row.cells)).strip()
                for row in table_of(result).rows]


def test_the_report_says_what_was_asked_every_figure_the_definitions_and_the_print_date(
        app, client, logged_in, case_manager, session, worked_example):
    logged_in(case_manager)
    text = _pdf(client, f"{PERIOD}&program=HF")
    # The selection: period, territory (the case manager's own), program.
    assert "1 January 2026 \u2013 30 June 2026" in text
    assert "Douaisis (DOUAISIS)" in text and "(HF)" in text
    # The headline figures as the page shows them (the worked example's, exact).
    with app.test_request_context(headers=EN):
        headline = page_rows(session, tables.headline, program="HF", territory="DOUAISIS")
        indicators = page_rows(session, tables.indicators, program="HF",
                               territory="DOUAISIS")
    assert headline[0].startswith("No-show rate 1 3 33.3")  # the worked example: 1 of 3
    assert headline[1].startswith("30-day readmission rate 1 2 50.0")
    for row in headline + indicators:
        assert row in text, (row, text)
    assert "met" in indicators[0]  # 100 % against its 75 % target
    # Every table of the page, each chart with its title.
    for title in ("Population by stratum on the last day", "Transitions between strata",
                  "Headline figures", "Indicators against their targets",
                  "Followed vs not followed", "Trends over the last twelve months",
                  "worst gap to target first", "The territories compared"):
        assert title in text, title
    # The appendix of definitions.
    assert "Appendix: definitions" in text
    assert "Index stays: stays of cohort patients discharged in the period" in text
    assert "a count from 1 to 10 is shown as <11" in text
    # The print date and the reader, stamped on every page.
    today = local_today()
    stamp = f"Printed on {today.strftime('%d/%m/%Y')}"
    assert text.count(stamp) == len(PdfReader(io.BytesIO(client.get(
        f"{URL}?{PERIOD}&program=HF", headers=EN).data)).pages) > 1
    assert case_manager.full_name in text


def test_the_charts_are_the_page_s_svg(app, client, logged_in, case_manager, session,
                                       worked_example):
    logged_in(case_manager)
    page = client.get(f"/metrics/report?{PERIOD}&program=HF", headers=EN).get_data(
        as_text=True)
    selection = services.select_figures(session, first=date(2026, 1, 1),
                                        last=date(2026, 6, 30), program="HF",
                                        territory="DOUAISIS")
    with app.test_request_context(headers=EN), force_locale("en"):
        figures = services.dashboard(session, selection, exact=True)
        built = tables.dashboard_tables(figures)
        svgs = [(charts.chart(table, "en"), charts.chart(table, "en", embed_style=True))
                for table in built]
    svgs = [pair for pair in svgs if pair[0]]
    assert len(svgs) >= 4
    style = f'<style type="text/css">{charts.stylesheet()}</style>'
    for svg, printed in svgs:
        assert str(printed) in page  # with its rules inside: WeasyPrint reads those only
        assert str(printed).replace(style, "") == str(svg)  # otherwise the page's SVG


def test_the_report_is_translated(client, logged_in, case_manager, worked_example):
    logged_in(case_manager)
    text = _pdf(client, f"{PERIOD}&program=HF", headers={"Accept-Language": "fr"})
    assert "Annexe : définitions" in text
    assert "Séjours index" in text
    assert "33,3\u00a0%" in text or "33,3 %" in text
    assert "1 janvier 2026 \u2013 30 juin 2026" in text
    assert "Rapport du registre pour le conseil clinique territorial" in text
    assert "Imprimé le" in text


def test_a_council_s_report_never_holds_a_withheld_value(app, council, admin, session,
                                                         small_cells):
    query = f"{PERIOD}&program=HF&territory=DOUAISIS"
    exact = _pdf(signed_in(app, admin), query)
    withheld = _pdf(signed_in(app, council), query)
    # The council's figures: HF-2's 1 is <11, HF-3's 12 its complement *, and what else the
    # other breakdowns the strata belong to (coverage, the flu indicator) withhold with them.
    codes = {"program": "HF", "territory": "DOUAISIS"}
    with app.test_request_context(headers=EN):
        exact_rows = {table: page_rows(session, table, **codes)
                      for table in (tables.population, tables.headline, tables.indicators)}
        council_rows = {table: page_rows(session, table, exact=False, **codes)
                        for table in exact_rows}
    assert exact_rows[tables.population][:3] == ["HF-1 15 15 +0", "HF-2 1 1 +0",
                                                 "HF-3 12 12 +0"]
    hf2, hf3 = council_rows[tables.population][1:3]
    assert hf2.startswith("HF-2 <11 <11") and hf3.startswith("HF-3 * *")
    for table, rows in exact_rows.items():
        for row in rows:
            assert row in exact, row
        for row in council_rows[table]:
            assert row in withheld, row
    # No row of exact figures that the council's withholds is in the council's PDF.
    for table, rows in council_rows.items():
        for shown, hidden in zip(rows, exact_rows[table], strict=True):
            if shown != hidden:
                assert hidden not in withheld, hidden
    assert "HF-2 1 " not in withheld and "HF-3 12" not in withheld
    assert "Small numbers withheld" in withheld and "Exact figures." in exact


def test_every_print_is_audited_with_what_was_asked(client, logged_in, council, session,
                                                    worked_example):
    logged_in(council)
    _pdf(client, f"{PERIOD}&program=HF")
    [entry] = _audits(session)
    assert entry.action == "print" and entry.actor_user_id == council.id
    assert entry.details == {"from": "2026-01-01", "to": "2026-06-30", "territory": "DOUAISIS",
                             "program": "HF", "stratum": None, "caseload_of": None}
    # The territories compared in it, audited as the page and the API audit a comparison.
    [comparison] = _audits(session, "metrics_comparison")
    assert comparison.action == "print" and comparison.details["territory"] is None


def test_the_dashboard_s_selection_gives_the_report_s_link(app, session, case_manager):
    from coordinator.metrics import report

    selection = services.select_figures(session, first=date(2026, 1, 1),
                                        last=date(2026, 3, 31), territory="DOUAISIS",
                                        stratum="HF-3", caseload_of=case_manager)
    with app.test_request_context():
        from flask import url_for

        link = url_for("metrics_report.pdf", **report.query(selection))
    assert link == ("/metrics/report/report.pdf?from=2026-01-01&to=2026-03-31"
                    "&territory=DOUAISIS&program=HF&stratum=HF-3&caseload=1")


def test_a_case_manager_prints_their_caseload_s_report(client, logged_in, case_manager,
                                                       session, registry):
    registry.patients(12, ("HF-3", date(2025, 6, 1)), case_manager_id=case_manager.id)
    registry.patients(3, ("HF-3", date(2025, 6, 1)))
    logged_in(case_manager)
    whole = _pdf(client, f"{PERIOD}&program=HF")
    mine = _pdf(client, f"{PERIOD}&program=HF&caseload=1")
    assert "HF-3 15 15 +0" in whole and "The territories compared" in whole
    assert "HF-3 12 12 +0" in mine and "The territories compared" not in mine
    assert [entry.details["caseload_of"] for entry in _audits(session)] == [
        None, case_manager.id]


def test_a_large_selection_is_printed_in_the_background_and_fetched_by_its_owner(
        app, client, logged_in, admin, make_user, session, worked_example):
    logged_in(admin)
    response = client.get(f"{URL}?{PERIOD}&program=HF", headers=EN)  # every territory
    assert response.status_code == 302
    location = response.headers["Location"]
    batch = session.scalar(select(PrintBatch))
    assert (batch.kind, batch.status) == (PrintKind.METRICS_REPORT, BatchStatus.RUNNING)
    assert location.endswith(f"/metrics/report/prints/{batch.id}")
    page = client.get(location, headers=EN).get_data(as_text=True)
    assert 'data-testid="report-running"' in page
    assert [entry.action for entry in _audits(session)] == ["print"]  # audited when asked

    assert [info.kind for info in worker.drain(app)] == ["metrics_report"]
    session.refresh(batch)
    assert batch.status == BatchStatus.SUCCEEDED
    assert session.get(WorkItem, batch.work_item_id).status == "succeeded"
    page = client.get(location, headers=EN).get_data(as_text=True)
    assert 'data-testid="report-done"' in page
    download = client.get(f"{location}/report.pdf", headers=EN)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    text = text_of(download.data)
    assert "All territories" in text and "(HF)" in text and "33.3%" in text
    assert admin.full_name in text  # stamped
    assert [entry.action for entry in _audits(session)] == ["print", "export"]

    # Another reader does not see it; nor is it a care-plan print.
    other = signed_in(app, make_user(role="admin"))
    assert other.get(location).status_code == 404
    assert other.get(f"{location}/report.pdf").status_code == 404
    assert client.get(f"/careplans/print/{batch.id}").status_code == 404


def test_a_period_over_a_year_is_printed_in_the_background(client, logged_in, council,
                                                           session):
    logged_in(council)
    response = client.get(f"{URL}?from=2025-01-01&to=2026-06-30", headers=EN)
    assert response.status_code == 302
    batch = session.scalar(select(PrintBatch))
    assert batch.parameters["territory"] == "DOUAISIS" and batch.parameters["exact"] is False


def test_a_council_no_longer_of_the_territory_cannot_fetch_its_report(
        app, client, logged_in, council, session):
    from tests import factories

    logged_in(council)
    location = client.get(f"{URL}?from=2025-01-01&to=2026-06-30").headers["Location"]
    worker.drain(app)
    assert client.get(f"{location}/report.pdf").status_code == 200
    council.territory = factories.territory("CORNOUAILLE")
    session.commit()
    assert client.get(f"{location}/report.pdf").status_code == 404


@pytest.mark.parametrize("role", ["gp", "professional"])
def test_other_roles_print_no_report(client, logged_in, make_user, role):
    logged_in(make_user(role=role))
    assert client.get(f"{URL}?{PERIOD}").status_code == 403
    assert client.get(f"/metrics/report?{PERIOD}").status_code == 403


def test_another_territory_s_report_is_forbidden(client, logged_in, council):
    logged_in(council)
    assert client.get(f"{URL}?{PERIOD}&territory=CORNOUAILLE").status_code == 403


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-07-01&to=2026-06-30", "to"),
    ("from=2020-01-01&to=2025-01-01", "to"),
    ("from=01/01/2026&to=2026-06-30", "from"),
    ("to=2026-06-30", "from"),
    (f"{PERIOD}&program=XX", "program"),
    (f"{PERIOD}&stratum=HF-9", "stratum"),
])
def test_a_bad_selection_is_422_naming_the_parameter(client, logged_in, admin, session, query,
                                                     field):
    logged_in(admin)
    response = client.get(f"{URL}?{query}", headers=EN)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"<strong>{field}</strong>" in page, page
    assert session.scalar(select(PrintBatch)) is None and _audits(session) == []


def test_the_preview_is_the_same_report_as_html(client, logged_in, case_manager, session,
                                                worked_example):
    logged_in(case_manager)
    response = client.get(f"/metrics/report?{PERIOD}&program=HF", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Appendix: definitions" in page and "33.3%" in page
    assert f"by {case_manager.full_name}" in page  # its print date and reader
    assert [entry.action for entry in _audits(session)] == ["print"]


def test_a_reader_who_no_longer_reads_exact_figures_cannot_fetch_an_exact_report(
        app, client, logged_in, case_manager, session):
    logged_in(case_manager)
    location = client.get(f"{URL}?from=2025-01-01&to=2026-06-30").headers["Location"]
    worker.drain(app)
    assert client.get(f"{location}/report.pdf").status_code == 200
    case_manager.role = "council"  # the same territory, now withheld figures only
    session.commit()
    assert client.get(location).status_code == 404
    assert client.get(f"{location}/report.pdf").status_code == 404


def test_a_background_report_is_cancelled_by_its_owner(app, client, logged_in, council,
                                                       session):
    logged_in(council)
    location = client.get(f"{URL}?from=2025-01-01&to=2026-06-30", headers=EN).headers[
        "Location"]
    token = client.csrf_token(location)
    assert client.post(f"{location}/cancel", data={"csrf_token": token}).status_code == 302
    assert worker.drain(app) == []
    batch = session.scalar(select(PrintBatch))
    session.refresh(batch)
    assert batch.status == BatchStatus.CANCELLED and batch.pdf is None
    page = client.get(location, headers=EN).get_data(as_text=True)
    assert 'data-testid="report-cancelled"' in page
    assert client.get(f"{location}/report.pdf").status_code == 404


def test_the_report_s_statements_do_not_grow_with_the_registry(app, session, registry,
                                                               count_queries):
    from coordinator.metrics import report

    def statements() -> int:
        with app.test_request_context(headers=EN), count_queries() as queries:
            selection = services.select_figures(db.session, first=date(2026, 1, 1),
                                                last=date(2026, 6, 30), program="HF",
                                                territory="DOUAISIS")
            report.report_html(report.gather(db.session, selection, exact=False,
                                             compare=True))
        return queries.count

    registry.patients(2, ("HF-2", date(2025, 6, 1)))
    few = statements()
    registry.patients(20, ("HF-3", date(2025, 6, 1)))
    registry.patients(20, ("HF-1", date(2025, 6, 1)), territory="CORNOUAILLE")
    assert statements() == few
