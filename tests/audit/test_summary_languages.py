"""A summary the system writes with a translated message is kept as its code too (in the
entry's hashed details): each reader reads it in their language (issue #16)."""

import csv
import io

from sqlalchemy import select

from coordinator.audit.models import AuditEntry


def _export_summary(client, language: str) -> str:
    response = client.get("/admin/audit/export.csv", headers={"Accept-Language": language})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return next(row["summary"] for row in rows if row["action"] == "export")


def test_an_export_recorded_in_english_reads_in_french(client, logged_in, admin, session):
    logged_in(admin)
    client.get("/admin/audit/export.csv", headers={"Accept-Language": "en"})
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry.summary == "Audit trail export"  # as written: the literal fallback
    page = client.get("/admin/audit/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Export du journal d’audit" in page
    assert "Audit trail export" not in page
    assert _export_summary(client, "en") == "Audit trail export"


def test_an_export_recorded_in_french_reads_in_english(client, logged_in, admin, session):
    logged_in(admin)
    client.get("/admin/audit/export.csv", headers={"Accept-Language": "fr"})
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry.summary != "Audit trail export"
    page = client.get("/admin/audit/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Audit trail export" in page


def test_a_summary_without_code_reads_as_written():
    assert AuditEntry(summary="opened", details=None).display_summary == "opened"
    assert AuditEntry(summary="x", details=["not", "a", "dict"]).display_summary == "x"
