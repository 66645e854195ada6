"""The printed council report: what its PDF says (selection, figures, definitions, print date),
what it withholds for a council, its audit, the background print of a large selection, who
may print it, and bad input."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.time import local_today
from coordinator.metrics import services
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


def test_the_report_says_what_was_asked_every_figure_the_definitions_and_the_print_date(
        client, logged_in, case_manager, worked_example):
    logged_in(case_manager)
    text = _pdf(client, f"{PERIOD}&program=HF")
    # The selection: period, territory (the case manager's own), program.
    assert "January 1, 2026" in text and "June 30, 2026" in text
    assert "DOUAISIS" in text and "(HF)" in text
    # The worked example's figures, exact for a case manager.
    assert "1 no-shows, 2 attended" in text and "33.3 %" in text  # no-show 1/3
    assert "1 of 2" in text and "50.0 %" in text  # readmission 1 of 2 index stays
    assert "0 of 2" in text  # follow-up: none within 7 days
    assert "Influenza vaccination, 65 and over" in text and "100.0 %" in text
    assert "Met" in text  # 100 % against its 75 % target
    # Every section, the appendix of definitions.
    for title in ("Headline figures", "Population by stratum", "Followed vs not followed",
                  "Trends over twelve months", "Territories compared", "Appendix: definitions"):
        assert title in text, title
    assert "Index stays: stays of cohort patients discharged in the period" in text
    assert "a count from 1 to 10 is shown as <11" in text
    # The print date and the reader, stamped on every page.
    today = local_today()
    assert f"Printed on {today.month}/{today.day}/{today.strftime('%y')}" in text
    assert case_manager.full_name in text


def test_the_report_is_translated(client, logged_in, case_manager, worked_example):
    logged_in(case_manager)
    text = _pdf(client, f"{PERIOD}&program=HF", headers={"Accept-Language": "fr"})
    assert "Annexe : définitions" in text
    assert "Séjours index" in text
    assert "33,3 %" in text
    assert "1 janvier 2026" in text
    assert "Imprimé le" in text


def test_a_council_s_report_never_holds_a_withheld_value(app, council, admin, session,
                                                         small_cells):
    query = f"{PERIOD}&program=HF&territory=DOUAISIS"
    exact = _pdf(signed_in(app, admin), query)
    withheld = _pdf(signed_in(app, council), query)
    # The council's figures: HF-2's 1 is <11, HF-3's 12 its complement *, and what else the
    # other breakdowns the strata belong to (coverage, the flu indicator) withhold with them.
    selection = services.select_figures(session, first=date(2026, 1, 1),
                                        last=date(2026, 6, 30), program="HF",
                                        territory="DOUAISIS")
    council_result = services.registry_metrics(session, selection, exact=False)
    strata = council_result.population.by_stratum
    assert (strata["HF-2"].mark, strata["HF-3"].mark) == ("<11", "*")
    shown = " ".join(f"{code} {count.mark or count.value} {count.mark or count.value}"
                     for code, count in strata.items())
    assert re.search(r"HF-1 15 15 HF-2 1 1 HF-3 12 12 Total 28 28", exact), exact
    assert re.escape(shown) and shown in withheld, (shown, withheld)
    assert "HF-3 12" not in withheld and "HF-2 1 " not in withheld
    assert "Small numbers withheld" in withheld and "Exact figures." in exact


def test_every_print_is_audited_with_what_was_asked(client, logged_in, council, session,
                                                    worked_example):
    logged_in(council)
    _pdf(client, f"{PERIOD}&program=HF")
    [entry] = _audits(session)
    assert entry.action == "print" and entry.actor_user_id == council.id
    assert entry.details == {"from": "2026-01-01", "to": "2026-06-30", "territory": "DOUAISIS",
                             "program": "HF", "stratum": None, "caseload_of": None}


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
    assert "All territories" in text and "(HF)" in text and "33.3 %" in text
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
    assert "Appendix: definitions" in page and "33.3 %" in page
    assert [entry.action for entry in _audits(session)] == ["print"]
