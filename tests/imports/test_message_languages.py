"""An import's errors and warnings are kept as codes: each reader reads them in their own
language, whatever the language of the import (issue #16)."""

import io

from flask_babel import force_locale
from sqlalchemy import select

from coordinator.imports.models import ImportReport
from coordinator.imports.reporting import message_line
from tests.imports.conftest import _runs, run

FILE = ("external_id,kind,name,territory_code,colour\n"
        "PRV-900,gp,,DOUAISIS,blue\n"
        "PRV-901,plumber,Dr Nobody,DOUAISIS,red\n")


def _upload(client, language: str):
    token = client.csrf_token("/imports/new")
    response = client.post("/imports/new", data={
        "csrf_token": token, "kind": "providers", "dry_run": "y",
        "file": (io.BytesIO(FILE.encode()), "providers.csv")},
        content_type="multipart/form-data", headers={"Accept-Language": language})
    for run_queued in _runs:  # inline_imports: the import runs now, in the uploader's language
        run_queued()
    return response


def _report_page(client, report, language: str) -> str:
    return client.get(f"/imports/{report.id}", headers={"Accept-Language": language}) \
        .get_data(as_text=True)


def test_errors_of_an_import_run_in_french_read_in_english(client, logged_in, admin, session,
                                                            inline_imports):
    logged_in(admin)
    assert _upload(client, "fr").status_code == 302
    report = session.scalar(select(ImportReport))
    assert "Une valeur est requise." in [e["message"] for e in report.errors]  # as written
    english = _report_page(client, report, "en")
    assert "A value is required." in english and "Unknown column: it is ignored." in english
    assert "Unknown kind; use one of: gp, nurse" in english  # a domain rule, its parameters
    assert "Une valeur est requise" not in english and "Colonne inconnue" not in english
    french = _report_page(client, report, "fr")
    assert "Une valeur est requise." in french and "Colonne inconnue" in french


def test_errors_of_an_import_run_in_english_read_in_french(client, logged_in, admin, session,
                                                            inline_imports):
    logged_in(admin)
    assert _upload(client, "en").status_code == 302
    report = session.scalar(select(ImportReport))
    french = _report_page(client, report, "fr")
    assert "Une valeur est requise." in french and "Colonne inconnue" in french
    assert "A value is required." not in french and "Unknown kind" not in french


def test_the_command_line_report_is_in_the_readers_language(session):
    report = run(session, "providers", FILE, dry_run=True)  # imported in English
    with force_locale("fr"):
        lines = [message_line(error) for error in report.errors]
    assert any("Une valeur est requise." in line for line in lines), lines


def test_a_message_stored_before_the_codes_reads_as_written(session):
    report = run(session, "providers", FILE, dry_run=True)
    old = {"line": 2, "column": "name", "message": "A value is required."}  # no code
    with force_locale("fr"):
        assert message_line(old).endswith("A value is required.")
    assert report.errors[0]["code"]["a"] == ["A value is required."]
