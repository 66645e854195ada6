"""Imports from the web, as background work: the uploaded file is stored with its work item,
any worker imports it (all or nothing, like every import), the report tells the outcome.

An attempt whose worker dies writes nothing (its transaction never commits) and the item is
run again by another worker; the report is finished in the same transaction as the item, so a
run after a finished one changes nothing. Cancelled, or failed after its attempts: the report
says so and nothing was written.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import BinaryIO

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core.context import Actor
from coordinator.core.time import utcnow
from coordinator.imports import engine
from coordinator.imports.models import ImportReport, ImportStatus
from coordinator.work import queue
from coordinator.work.context import ItemInfo, WorkContext
from coordinator.work.models import WorkStatus
from coordinator.work.registry import Kind, Registry

KIND = "import"


def start(session: Session, actor: Actor, kind: str, file_name: str,
          options: engine.ImportOptions, stream: BinaryIO, locale: str | None) -> ImportReport:
    """The report of an import of `stream`, queued as background work (flushed: the caller
    commits the report, its item and the file together)."""
    report = engine.start_report(session, actor, kind, file_name, options)
    item = queue.enqueue(session, KIND, {
        "report_id": report.id, "actor": asdict(actor), "options": options.as_dict(),
        "locale": locale}, created_by_id=actor.user_id)
    size = queue.attach(session, item, stream)
    report.file_size, report.work_item_id, item.total = size, item.id, size
    session.flush()
    return report


def run(ctx: WorkContext) -> dict:
    """The handler: import the item's file into its report."""
    session = ctx.session
    report = session.get(ImportReport, ctx.payload["report_id"])
    if report is None:
        return {"status": "missing"}
    if report.is_finished:  # an earlier attempt committed it
        return {"status": report.status}
    total = report.file_size or 0
    report = engine.run_import(
        session, Actor(**ctx.payload["actor"]), report.id, queue.open_blob(session, ctx.item_id),
        engine.ImportOptions(**ctx.payload["options"]),
        progress=lambda done, rows: ctx.progress(done, total, rows=rows),
        locale=ctx.payload.get("locale"), commit=False,
        batch_size=int(current_app.config.get("IMPORT_BATCH_SIZE", engine.BATCH_SIZE)))
    return {"status": report.status, "rows": report.rows_read}


def end(session: Session, info: ItemInfo) -> None:
    """The item ended without its import: the report says why; nothing was written."""
    report = session.get(ImportReport, info.payload["report_id"])
    if report is None or report.is_finished:
        return
    cancelled = info.status == WorkStatus.CANCELLED
    with force_locale(info.payload.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"]):
        if cancelled:
            message = _l("The import was cancelled: nothing was written.")
        elif queue.is_interruption(info.error):
            message = _l("The import was interrupted %(n)d times (its worker stopped): nothing "
                         "was written. Import the file again; for a very large file, use the "
                         "command line.", n=info.attempt)
        else:
            message = _l("The import stopped on an unexpected error: nothing was written. The "
                         "error has been logged.")
        item = engine.message_item(None, None, message)  # its text in the importer's language
    status = ImportStatus.CANCELLED if cancelled else ImportStatus.FAILED
    report.status, report.finished_at = status, utcnow()
    report.errors = [*(report.errors or []), item]
    report.error_count = (report.error_count or 0) + 1
    audit.record(session, Actor(**info.payload["actor"]), AuditAction.CREATE, "import_report",
                 report.id, summary=f"{report.kind} import of {report.file_name}: {status}; "
                                    "nothing written",
                 details={"kind": report.kind, "status": status, "dry_run": report.dry_run,
                          "reason": info.error})
    session.flush()


def register(registry: Registry) -> None:
    registry.register(Kind(KIND, run, on_end=end))
