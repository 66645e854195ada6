"""Printed documents: batch downloads are checked again and audited; nothing is kept forever."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.careplans import printing as plan_printing
from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.printing import batch as batches
from coordinator.printing import jobs as printing_jobs
from coordinator.printing.models import PrintBatch, PrintedDocument
from tests import factories


def _batch(client, logged_in, manager, monkeypatch, plans):
    def inline(app, batch_id, build):
        htmls, stamp = build()
        batches.execute(db.session, batch_id, htmls, stamp, parallel=False)

    monkeypatch.setattr(batches, "launch", inline)
    logged_in(manager)
    token = client.csrf_token("/careplans/")
    response = client.post("/careplans/print", data={
        "csrf_token": token, "scope": "selection", "plan_ids": [p.id for p in plans]})
    return response.headers["Location"]


def test_a_batch_is_downloaded_by_its_owner_only_while_they_may_read_its_plans(
        app, client, logged_in, case_manager, make_user, monkeypatch):
    patients = [factories.make_patient(case_manager_id=case_manager.id) for _ in range(2)]
    plans = [factories.make_care_plan(p, user=case_manager, status="active") for p in patients]
    location = _batch(client, logged_in, case_manager, monkeypatch, plans)
    pdf = client.get(location + "/plans.pdf")
    assert pdf.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert all(p.display_name in text for p in patients)
    downloads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export"))
    assert {e.patient_id for e in downloads} == {p.id for p in patients}

    colleague = app.test_client()
    colleague.login(make_user(role="case_manager", territory_code="DOUAISIS").email)
    assert colleague.get(location + "/plans.pdf").status_code == 404  # not their batch
    case_manager.territory = factories.territory("CORNOUAILLE")  # the owner moved
    db.session.commit()
    assert client.get(location + "/plans.pdf").status_code == 404


def test_the_daily_purge_deletes_old_pdfs_and_fails_interrupted_batches(session, case_manager):
    now = utcnow()
    old = PrintedDocument(key="a" * 64, pdf=b"%PDF", pages=1,
                          created_at=now - timedelta(days=31))
    recent = PrintedDocument(key="b" * 64, pdf=b"%PDF", pages=1, created_at=now)
    done = PrintBatch(user_id=case_manager.id, total=1, done=1, status="succeeded",
                      pdf=b"%PDF", created_at=now - timedelta(hours=25))
    stuck = PrintBatch(user_id=case_manager.id, total=3, done=1, status="running",
                       created_at=now - timedelta(hours=2))
    session.add_all([old, recent, done, stuck])
    session.commit()
    counts = printing_jobs.purge_printed_documents(session, now)
    assert counts == {"cached_pdfs": 1, "batch_pdfs": 1, "stalled_batches": 1}
    session.expire_all()
    assert session.scalars(select(PrintedDocument.key)).all() == ["b" * 64]
    assert (done.pdf, stuck.status) == (None, "failed")
    assert plan_printing.batch_download(session, factories.case_plan_actor(case_manager), done,
                                        case_manager) is None
