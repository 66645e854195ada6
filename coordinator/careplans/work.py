"""Batch prints of care plans as background work: the handler renders the batch's plans in
the reader's language (the PDF cache keeps each document as it comes, so an interrupted batch
resumes where it was), merges and stamps them; the batch row says how it ended."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from sqlalchemy.orm import Session

from coordinator.careplans import printing as plan_printing
from coordinator.core.time import utcnow
from coordinator.printing import batch as batches
from coordinator.printing.models import BatchStatus, PrintBatch
from coordinator.work.context import ItemInfo, WorkContext
from coordinator.work.models import WorkStatus
from coordinator.work.registry import Kind, Registry


def run(ctx: WorkContext) -> dict:
    """The handler: render, merge and stamp the batch (its rendered documents are committed
    as they come: `progress(..., commit=True)`)."""
    session, payload = ctx.session, ctx.payload
    batch = session.get(PrintBatch, payload["batch_id"])
    if batch is None or batch.status != BatchStatus.RUNNING:  # an earlier attempt finished it
        return {"status": batch.status if batch else "missing"}
    config = current_app.config
    # The templates build URLs: a request context of their own, in the reader's language.
    with current_app.test_request_context(), force_locale(payload["locale"]):
        htmls, stamp = plan_printing.batch_documents(session, payload["plan_ids"],
                                                     payload["reader_name"])
    total = len(htmls)
    pages = batches.execute(
        session, batch.id, htmls, stamp,
        progress=lambda done: ctx.progress(done, total, commit=True),
        parallel=bool(config.get("PRINT_IN_WORKER_PROCESSES", True)),
        timeout=config.get("PRINT_RENDER_TIMEOUT_SECONDS"))
    return {"documents": total, "pages": pages}


def end(session: Session, info: ItemInfo) -> None:
    """The item ended without its PDF: the batch failed or was cancelled."""
    batch = session.get(PrintBatch, info.payload["batch_id"])
    if batch is None or batch.status != BatchStatus.RUNNING:
        return
    batch.status = (BatchStatus.CANCELLED if info.status == WorkStatus.CANCELLED
                    else BatchStatus.FAILED)
    batch.error, batch.finished_at = (info.error or "")[:500] or None, utcnow()
    session.flush()


def register(registry: Registry) -> None:
    registry.register(Kind(plan_printing.BATCH_KIND, run, on_end=end))
