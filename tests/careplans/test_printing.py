"""Printed documents: batch downloads are checked again and audited; nothing is kept forever."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.careplans import printing as plan_printing
from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.printing import batch as batches
from coordinator.printing import jobs as printing_jobs
from coordinator.printing import pdf as pdfs
from coordinator.printing.models import PrintBatch, PrintedDocument
from coordinator.work import worker
from coordinator.work.models import WorkItem
from tests import factories

EN = {"Accept-Language": "en"}


def _batch(client, logged_in, manager, plans, run: bool = True):
    logged_in(manager)
    token = client.csrf_token("/careplans/")
    response = client.post("/careplans/print", data={
        "csrf_token": token, "scope": "selection", "plan_ids": [p.id for p in plans]})
    if run:
        worker.drain(client.application)
    return response.headers["Location"]


def test_a_batch_is_downloaded_by_its_owner_only_while_they_may_read_its_plans(
        app, client, logged_in, case_manager, make_user):
    patients = [factories.make_patient(case_manager_id=case_manager.id) for _ in range(2)]
    plans = [factories.make_care_plan(p, user=case_manager, status="active") for p in patients]
    location = _batch(client, logged_in, case_manager, plans)
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


def test_the_daily_purge_deletes_old_pdfs(session, case_manager):
    now = utcnow()
    old = PrintedDocument(key="a" * 64, pdf=b"%PDF", pages=1,
                          created_at=now - timedelta(days=31))
    recent = PrintedDocument(key="b" * 64, pdf=b"%PDF", pages=1, created_at=now)
    done = PrintBatch(user_id=case_manager.id, total=1, status="succeeded",
                      pdf=b"%PDF", created_at=now - timedelta(hours=25))
    session.add_all([old, recent, done])
    session.commit()
    counts = printing_jobs.purge_printed_documents(session, now)
    assert counts == {"cached_pdfs": 1, "batch_pdfs": 1}
    session.expire_all()
    assert session.scalars(select(PrintedDocument.key)).all() == ["b" * 64]
    assert done.pdf is None
    assert plan_printing.batch_download(session, factories.case_plan_actor(case_manager), done,
                                        case_manager) is None


def _plans(case_manager, count: int):
    patients = [factories.make_patient(case_manager_id=case_manager.id) for _ in range(count)]
    return [factories.make_care_plan(p, user=case_manager, status="active") for p in patients]


def test_the_batch_page_shows_the_progress_its_worker_published(
        client, logged_in, case_manager, session):
    location = _batch(client, logged_in, case_manager, _plans(case_manager, 3), run=False)
    page = client.get(location, headers=EN).get_data(as_text=True)
    assert "Waiting for a worker to start the printing." in page
    batch = session.scalar(select(PrintBatch))
    item = session.get(WorkItem, batch.work_item_id)
    assert (item.kind, item.status, item.total, item.created_by_id) == (
        "print_batch", "queued", 3, case_manager.id)
    item.status, item.attempts, item.claimed_by, item.done = "running", 1, "elsewhere", 2
    session.commit()
    fragment = client.get(location + "/progress", headers=EN).get_data(as_text=True)
    assert "2 of 3 plans rendered." in fragment and 'value="2"' in fragment


def test_a_batch_cancelled_while_queued_is_never_rendered(client, logged_in, case_manager,
                                                         session):
    location = _batch(client, logged_in, case_manager, _plans(case_manager, 2), run=False)
    response = client.post(location + "/cancel", data={"csrf_token": client.csrf_token(location)})
    assert response.status_code == 302
    assert worker.drain(client.application) == []
    batch = session.scalar(select(PrintBatch))
    session.refresh(batch)
    assert batch.status == "cancelled" and batch.pdf is None
    page = client.get(location, headers=EN).get_data(as_text=True)
    assert 'data-testid="batch-cancelled"' in page
    assert client.get(location + "/plans.pdf").status_code == 404


def test_a_failing_render_fails_the_batch_with_its_error(client, logged_in, case_manager,
                                                         session, monkeypatch):
    def broken(html):
        raise OSError("No space left on device")

    monkeypatch.setattr(pdfs, "render_pdf", broken)
    location = _batch(client, logged_in, case_manager, _plans(case_manager, 1))
    batch = session.scalar(select(PrintBatch))
    session.refresh(batch)
    item = session.get(WorkItem, batch.work_item_id)
    assert (batch.status, item.status) == ("failed", "failed")
    assert "No space left on device" in batch.error and "No space left" in item.error
    assert session.scalar(select(PrintedDocument.id)) is None  # no broken cache entry
    page = client.get(location, headers=EN).get_data(as_text=True)
    assert 'data-testid="batch-failed"' in page


def test_a_large_plan_is_printed_in_the_background(client, logged_in, case_manager, session,
                                                  app, monkeypatch):
    plan = _plans(case_manager, 1)[0]
    monkeypatch.setitem(app.config, "PRINT_INLINE_MAX_BYTES", 1000)
    logged_in(case_manager)
    response = client.get(f"/careplans/{plan.id}/summary.pdf")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert worker.drain(app)
    pdf = client.get(location + "/plans.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    monkeypatch.setitem(app.config, "PRINT_INLINE_MAX_BYTES", 10_000_000)
    inline = client.get(f"/careplans/{plan.id}/summary.pdf")  # cached now: at once
    assert inline.status_code == 200 and inline.mimetype == "application/pdf"


def test_a_document_rendering_past_the_time_limit_fails_and_stops_the_renderers(session):
    from tests.work.workers import slow_render

    html = "<html><body><p>Quick</p></body></html>"
    [quick] = batches.render_all(session, [html], parallel=True, timeout=60)  # the pool works
    assert quick.pages == 1 and not quick.cached
    pool = batches.pool()
    processes = list(pool._processes.values())
    started = time.monotonic()
    with pytest.raises(batches.RenderTimeout, match="longer than 2 s"):
        batches.render_all(session, ["<p>a</p>", "<p>b</p>"], parallel=True, timeout=2,
                           render=slow_render)
    assert time.monotonic() - started < 30
    assert batches._pool is None  # the next batch starts a new pool
    for process in processes:
        process.join(10)
        assert not process.is_alive()


def test_only_its_owner_cancels_a_batch(app, client, logged_in, case_manager, make_user, session):
    location = _batch(client, logged_in, case_manager, _plans(case_manager, 1), run=False)
    colleague = app.test_client()
    colleague.login(make_user(role="case_manager", territory_code="DOUAISIS").email)
    response = colleague.post(location + "/cancel", data={"csrf_token": colleague.csrf_token("/")})
    assert response.status_code == 404
    assert session.scalar(select(WorkItem.status)) == "queued"


def test_a_batch_of_one_plan_is_counted_in_the_singular(client, logged_in, case_manager,
                                                        session):
    location = _batch(client, logged_in, case_manager, _plans(case_manager, 1), run=False)
    batch = session.scalar(select(PrintBatch))
    item = session.get(WorkItem, batch.work_item_id)
    item.status, item.attempts, item.claimed_by, item.done = "running", 1, "elsewhere", 0
    session.commit()
    fragment = client.get(location + "/progress", headers=EN).get_data(as_text=True)
    assert "0 of 1 plan rendered." in fragment
    batch.status, batch.pages = "succeeded", 1
    session.commit()
    fragment = client.get(location + "/progress", headers=EN).get_data(as_text=True)
    assert "1 plan printed, 1 page." in fragment
