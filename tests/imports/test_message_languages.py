"""An import's errors and warnings are kept as codes: each reader reads them in their own
language, whatever the language of the import (issue #16)."""

import csv
import io

from flask_babel import force_locale
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.context import Actor
from coordinator.imports.models import ImportReport
from coordinator.imports.reporting import message_line
from tests.factories import make_user
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


def _download(client, report, language: str) -> list[list[str]]:
    response = client.get(f"/imports/{report.id}/messages.csv",
                          headers={"Accept-Language": language})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_messages_download_is_in_the_readers_language(client, logged_in, admin, session,
                                                          inline_imports):
    logged_in(admin)
    assert _upload(client, "fr").status_code == 302
    report = session.scalar(select(ImportReport))
    assert 'data-testid="import-messages-csv"' in _report_page(client, report, "en")
    english = _download(client, report, "en")
    assert english[0] == ["Type", "Line", "Column", "Message"]
    assert ["Error", "2", "name", "A value is required."] in english
    assert ["Warning", "1", "colour", "Unknown column: it is ignored."] in english
    french = _download(client, report, "fr")
    assert ["Erreur", "2", "name", "Une valeur est requise."] in french
    exports = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "export", AuditEntry.entity_type == "import_report")).all()
    assert len(exports) == 2


def test_another_importer_cannot_download_the_messages(client, logged_in, admin, session):
    report = run(session, "providers", FILE, actor=Actor.for_user(admin, "10.0.0.1"),
                 dry_run=True)
    session.commit()
    logged_in(make_user(role="case_manager"))
    assert client.get(f"/imports/{report.id}/messages.csv").status_code == 404
