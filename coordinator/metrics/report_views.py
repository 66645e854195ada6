"""The printed council report's pages: its PDF (now, or a background print for a large
selection), the HTML preview of the same template, and a background print's progress and PDF.

Parameters as the dashboard and `GET /api/v1/metrics`: `from`, `to` (ISO dates), `territory`,
`program`, `stratum`; a wrong one answers 422 with a page naming it. Who reads which figures
is `coordinator.permissions`' (`METRICS_READER`, `can_read_territory_metrics`,
`reads_exact_metrics`; a background print: `can_fetch_metrics_report`).
"""

from __future__ import annotations

from dataclasses import replace

import marshmallow as ma
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from coordinator.core.errors import ValidationError
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.metrics import report, services
from coordinator.metrics.schemas import MetricsArgsSchema
from coordinator.permissions import (
    METRICS_READER,
    abort_if_hidden,
    can_compare_territories,
    can_fetch_metrics_report,
    can_read_caseload_metrics,
    can_read_territory_metrics,
    metrics_default_territory,
    reads_exact_metrics,
    require,
)
from coordinator.printing.models import BatchStatus, PrintBatch
from coordinator.printing.pdf import PrintFailed
from coordinator.printing.responses import pdf_response, print_failed
from coordinator.strata.models import Territory
from coordinator.work import queue as work

bp = Blueprint("metrics_report", __name__, url_prefix="/metrics/report")


class _BadSelection(Exception):
    def __init__(self, messages: dict[str, list[str]]):
        super().__init__(messages)
        self.messages = messages


def _selection() -> services.Selection:
    """The selection of the query string, the reader's territory by default; 403 for figures
    the reader may not read."""
    try:
        args = MetricsArgsSchema(unknown=ma.EXCLUDE).load(request.args)
    except ma.ValidationError as error:
        raise _BadSelection({str(field): [str(m) for m in messages] for field, messages
                             in _flat(error.messages).items()}) from error
    caseload = request.args.get("caseload", "") not in ("", "0", "n") and \
        can_read_caseload_metrics(current_user)
    try:
        selection = services.select_figures(
            db.session, first=args.get("first"), last=args.get("last"),
            territory=args.get("territory"), program=args.get("program"),
            stratum=args.get("stratum"), caseload_of=current_user if caseload else None)
    except ValidationError as error:
        raise _BadSelection(error.messages()) from error
    if selection.territory is None:
        default = metrics_default_territory(current_user)
        if default is not None:
            selection = replace(selection, territory=db.session.get(Territory, default))
    if not can_read_territory_metrics(current_user,
                                      selection.territory.id if selection.territory else None):
        abort(403)
    return selection


def _compares(selection: services.Selection) -> bool:
    """The territories compared are in the report as on the page: not in a caseload's."""
    return can_compare_territories(current_user) and selection.caseload_of is None


def _flat(messages) -> dict[str, list]:
    if isinstance(messages, dict):
        return {field: value if isinstance(value, list) else [value]
                for field, value in messages.items()}
    return {"_request": list(messages)}


def _bad_selection(error: _BadSelection):
    return render_template("metrics/report_error.html", errors=error.messages), 422




@bp.get("/report.pdf")
@require(METRICS_READER)
def pdf():
    """The report's PDF, audited; a large selection is rendered in the background: the page
    of its progress, with the PDF once done."""
    try:
        selection = _selection()
        printed = report.print_report(db.session, current_actor(), selection,
                                      exact=reads_exact_metrics(current_user),
                                      compare=_compares(selection),
                                      reader_name=current_user.full_name)
    except _BadSelection as error:
        return _bad_selection(error)
    except PrintFailed as error:
        return print_failed(error)
    db.session.commit()
    if isinstance(printed, PrintBatch):
        return redirect(url_for("metrics_report.batch", batch_id=printed.id))
    return pdf_response(printed.pdf, printed.filename)


@bp.get("")
@require(METRICS_READER)
def preview():
    """The report as HTML (the template of the PDF), for the browser's own printing; audited
    as a print."""
    try:
        selection = _selection()
    except _BadSelection as error:
        return _bad_selection(error)
    html = report.preview(db.session, current_actor(), selection,
                          exact=reads_exact_metrics(current_user),
                          compare=_compares(selection),
                          reader_name=current_user.full_name)
    db.session.commit()
    return html


def _own_report(batch_id: int) -> PrintBatch:
    batch = db.session.get(PrintBatch, batch_id)
    abort_if_hidden(can_fetch_metrics_report(current_user, batch))
    return batch


@bp.get("/prints/<int:batch_id>")
@require(METRICS_READER)
def batch(batch_id: int):
    batch = _own_report(batch_id)
    return render_template("metrics/report_batch.html", batch=batch,
                           progress=work.state(db.session, batch.work_item_id))


@bp.get("/prints/<int:batch_id>/progress")
@require(METRICS_READER)
def batch_progress(batch_id: int):
    batch = _own_report(batch_id)
    return render_template("metrics/_report_progress.html", batch=batch,
                           progress=work.state(db.session, batch.work_item_id))


@bp.post("/prints/<int:batch_id>/cancel")
@require(METRICS_READER)
def batch_cancel(batch_id: int):
    batch = _own_report(batch_id)
    if batch.work_item_id is not None and batch.status == BatchStatus.RUNNING:
        work.cancel(db.session, batch.work_item_id)
        db.session.commit()
    return redirect(url_for("metrics_report.batch", batch_id=batch.id))


@bp.get("/prints/<int:batch_id>/report.pdf")
@require(METRICS_READER)
def batch_pdf(batch_id: int):
    batch = _own_report(batch_id)
    pdf = report.download(db.session, current_actor(), batch)
    if pdf is None:
        abort(404)
    db.session.commit()
    return pdf_response(pdf, report.batch_filename(batch))
