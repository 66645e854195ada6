"""The format rules every kind shares: encoding, delimiter, header, cells, dates, line numbers,
all-or-nothing, skip-invalid, the stored report."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from coordinator.imports import cells, engine
from coordinator.imports.models import ImportReport
from coordinator.providers.models import Provider
from tests.imports.conftest import messages, run

HEADER = "external_id,kind,name,territory_code"


def providers(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def provider_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Provider))


def test_semicolons_a_bom_crlf_and_free_column_order(session):
    content = "\ufeffname ; territory_code;KIND;external_id\r\nDr A;DOUAISIS;gp;P1\r\n"
    report = run(session, "providers", content.encode("utf-8"))
    assert (report.status, report.created) == ("succeeded", 1)
    provider = session.scalar(select(Provider))
    assert (provider.external_id, provider.name, provider.kind) == ("P1", "Dr A", "gp")


def test_cells_are_stripped_and_empty_means_no_value(session):
    content = providers("  P1 , gp ,  Dr A  , DOUAISIS ,   ,", header=HEADER + ",rpps,city")
    report = run(session, "providers", content)
    assert report.status == "succeeded", report.errors
    provider = session.scalar(select(Provider))
    assert (provider.external_id, provider.name, provider.rpps, provider.city) == (
        "P1", "Dr A", None, None)


@pytest.mark.parametrize("header", [
    "external_id\tkind\tname\tterritory_code",
    "external_id|kind|name|territory_code",
])
def test_a_header_without_comma_or_semicolon_is_refused(session, header):
    report = run(session, "providers", providers("P1\tgp\tDr A\tDOUAISIS", header=header))
    assert report.status == "rejected" and report.rows_read == 0
    assert messages(report) == [
        "line 1: The header is not separated by commas (,) or semicolons (;): these are the only "
        "delimiters accepted. Save the file as CSV with one of them."]


def test_a_missing_required_column_refuses_the_whole_file_naming_it(session):
    report = run(session, "providers", providers("P1,Dr A", header="external_id,name"))
    assert report.status == "rejected" and report.rows_read == 0
    assert messages(report) == [
        "line 1, column kind: Required column missing: the file is refused.",
        "line 1, column territory_code: Required column missing: the file is refused."]
    assert provider_count(session) == 0


def test_unknown_columns_are_ignored_with_a_warning(session):
    report = run(session, "providers", providers("P1,gp,Dr A,DOUAISIS,blue",
                                                 header=HEADER + ",colour"))
    assert report.status == "succeeded" and report.created == 1
    assert report.warnings == [{"line": 1, "column": "colour",
                                "message": "Unknown column: it is ignored.",
                                "code": {"f": "gettext", "a": ["Unknown column: it is ignored."],
                                         "p": {}}}]


def test_a_column_twice_in_the_header_is_refused(session):
    report = run(session, "providers", providers("P1,gp,Dr A,DOUAISIS,x",
                                                 header=HEADER + ",name"))
    assert messages(report) == ["line 1, column name: This column appears twice in the header."]


@pytest.mark.parametrize("content", [b"", b"\n\n", "\ufeff".encode()])
def test_an_empty_file_is_refused(session, content):
    report = run(session, "providers", content)
    assert report.status == "rejected"
    assert messages(report) == ["line 1: The file is empty: its first line must be the header."]


def test_a_file_that_is_not_utf8_is_refused(session):
    content = providers("P1,gp,Dr A,DOUAISIS", "P2,gp,Dr Bérénice,DOUAISIS").encode("latin-1")
    report = run(session, "providers", content)
    assert report.status == "rejected"
    assert "not UTF-8" in report.errors[0]["message"]
    assert provider_count(session) == 0


def test_blank_lines_are_skipped_and_line_numbers_stay_physical(session):
    content = providers("P1,gp,Dr A,DOUAISIS", "", ",,,", 'P2,gp,"Dr B\nsecond line",DOUAISIS',
                        "P3,gp,,DOUAISIS")
    report = run(session, "providers", content)
    assert report.rows_read == 3
    # Line 5 holds P2 (two physical lines), so P3 is on line 7.
    assert messages(report) == ["line 7, column name: A value is required."]


def test_a_row_with_a_wrong_number_of_cells_is_an_error(session):
    report = run(session, "providers", providers("P1,gp,Dr A", "P2,gp,Dr B,DOUAISIS,extra",
                                                 "P3,gp,Dr C,DOUAISIS,,"))
    assert messages(report) == ["line 2: This row has 3 cells; the header has 4.",
                                "line 3: This row has 5 cells; the header has 4."]
    assert report.skipped == 2  # trailing empty cells (line 4) are tolerated


def test_all_or_nothing_every_error_listed_by_line_and_column(session):
    content = providers("P1,gp,Dr A,DOUAISIS", "P2,astronaut,Dr B,DOUAISIS",
                        "P3,gp,Dr C,ATLANTIS", "P4,gp,Dr D,DOUAISIS",
                        header=HEADER)
    report = run(session, "providers", content)
    assert report.status == "rejected"
    assert messages(report) == [
        "line 3, column kind: Unknown kind; use one of: gp, nurse, pharmacist, "
        "physiotherapist, dietitian, psychologist, social_worker, home_care_service, "
        "specialist, hospital, association, other.",
        "line 4, column territory_code: Unknown territory “ATLANTIS”.",
    ]
    assert (report.created, report.skipped, report.error_count) == (2, 2, 2)
    assert provider_count(session) == 0  # nothing written


def test_skip_invalid_imports_the_valid_rows_and_reports_the_others(session):
    content = providers("P1,gp,Dr A,DOUAISIS", "P2,astronaut,Dr B,DOUAISIS",
                        "P3,gp,Dr C,DOUAISIS")
    report = run(session, "providers", content, skip_invalid=True)
    assert (report.status, report.created, report.skipped) == ("succeeded", 2, 1)
    assert messages(report)[0].startswith("line 3, column kind:")
    assert set(session.scalars(select(Provider.external_id))) == {"P1", "P3"}
    assert report.options["skip_invalid"] is True


def test_the_report_is_kept_when_the_import_is_refused(session):
    report = run(session, "providers", providers("P1,gp,,DOUAISIS"), file_name="dir/x.csv",
                 dry_run=False)
    session.commit()
    stored = session.get(ImportReport, report.id)
    assert (stored.status, stored.kind, stored.file_name, stored.actor_label) == (
        "rejected", "providers", "dir/x.csv", "test")
    assert stored.started_at <= stored.finished_at
    assert [{k: v for k, v in e.items() if k != "code"} for e in stored.errors] == [
        {"line": 2, "column": "name", "message": "A value is required."}]


def test_stored_errors_are_capped_but_all_counted(session):
    rows = [f"P{n},gp,,DOUAISIS" for n in range(engine.MAX_STORED_MESSAGES + 250)]
    report = run(session, "providers", providers(*rows))
    assert report.error_count == engine.MAX_STORED_MESSAGES + 250
    assert len(report.errors) == engine.MAX_STORED_MESSAGES
    assert report.errors[-1]["line"] == engine.MAX_STORED_MESSAGES + 1


def test_a_bad_date_on_row_9873_of_a_large_file(session, examples):
    examples("providers")
    lines = ["external_id,birth_name,first_names,birth_date,sex,territory_code"]
    for n in range(1, 12001):
        day = "1950-13-45" if n == 9873 else f"{1930 + n % 60}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        lines.append(f"X{n},NAME{n},Jean,{day},M,DOUAISIS")
    report = run(session, "patients", "\n".join(lines) + "\n")
    assert report.status == "rejected" and report.rows_read == 12000
    assert messages(report) == ["line 9874, column birth_date: “1950-13-45” is not a valid date."]
    assert report.created == 11999  # what the import would have done; nothing is written
    assert session.scalar(select(func.count()).select_from(ImportReport)) == 2


def test_a_repeated_key_updates_what_the_first_row_wrote(session):
    report = run(session, "providers", providers("P1,gp,Dr A,DOUAISIS", "P1,gp,Dr B,DOUAISIS"),
                 batch_size=engine.BATCH_SIZE)
    assert (report.created, report.updated) == (1, 1)
    assert session.scalar(select(Provider.name)) == "Dr B"


def test_progress_is_reported_by_bytes_and_rows(session):
    seen = []
    content = providers(*(f"P{n},gp,Dr {n},DOUAISIS" for n in range(10)))
    run(session, "providers", content, batch_size=3, progress=lambda b, r: seen.append((b, r)))
    assert seen[-1] == (len(content.encode()), 10)
    assert [rows for _bytes, rows in seen[:4]] == [3, 6, 9, 10]


@pytest.mark.parametrize("cell,expected", [
    ("2026-03-01", date(2026, 3, 1)), ("01/03/2026", date(2026, 3, 1)),
])
def test_both_date_forms(cell, expected):
    assert cells.parse_date(cell) == expected


@pytest.mark.parametrize("cell", ["2026-02-30", "31/04/2026", "2026/03/01", "1/3/2026", "mars"])
def test_bad_dates(cell):
    with pytest.raises(cells.CellError):
        cells.parse_date(cell)


@pytest.mark.parametrize("cell,expected", [
    ("2026-03-01T14:30", datetime(2026, 3, 1, 13, 30, tzinfo=UTC)),  # winter: UTC+1
    ("2026-07-01T14:30:15", datetime(2026, 7, 1, 12, 30, 15, tzinfo=UTC)),  # summer: UTC+2
    ("2026-04-10T10:00:00+02:00", datetime(2026, 4, 10, 8, 0, tzinfo=UTC)),
    ("2026-04-10T10:00Z", datetime(2026, 4, 10, 10, 0, tzinfo=UTC)),
    ("2026-03-29T01:59", datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),  # the night of the change
    ("2026-03-29T03:00", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ("2026-10-25T02:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # repeated hour: first
])
def test_datetimes_are_paris_local_time_across_daylight_saving(cell, expected):
    assert cells.parse_datetime(cell) == expected


@pytest.mark.parametrize("cell", ["2026-03-29T02:30", "2026-03-01", "2026-03-01T25:00",
                                  "14:30 01/03/2026"])
def test_bad_or_nonexistent_datetimes(cell):
    with pytest.raises(cells.CellError):
        cells.parse_datetime(cell)


def test_date_or_datetime():
    assert cells.parse_date_or_datetime("01/06/2026") == date(2026, 6, 1)
    assert cells.parse_date_or_datetime("2026-06-01T08:00") == datetime(2026, 6, 1, 6, 0,
                                                                        tzinfo=UTC)
