"""CSV import pages: upload a file, follow its progress, read the reports.

The upload is stored with a work item and imported by a background worker (see `work`); the
progress page polls a small fragment every second (htmx), which reads the item's progress
from any process.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coordinator import permissions
from coordinator.core.pagination import paginate
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.imports import engine, reporting, services
from coordinator.imports import work as import_work
from coordinator.imports.forms import ImportForm
from coordinator.imports.kinds import KINDS
from coordinator.imports.models import ImportReport, ImportStatus
from coordinator.permissions import IMPORTER, abort_if_hidden, require
from coordinator.strata.models import Program, Territory
from coordinator.work import queue as work

bp = Blueprint("imports", __name__, url_prefix="/imports")
# The user documentation of the formats and its example files, in the repository beside the
# package (docs/imports.md, docs/examples/KIND.csv): the Imports page links to them.
DOCS = Path(__file__).resolve().parents[2] / "docs"

STATUS_LABELS = {
    ImportStatus.RUNNING: _l("Running"),
    ImportStatus.SUCCEEDED: _l("Succeeded"),
    ImportStatus.REJECTED: _l("Refused"),
    ImportStatus.FAILED: _l("Failed"),
    ImportStatus.CANCELLED: _l("Cancelled on request"),
}
STATUS_CLASSES = {ImportStatus.RUNNING: "info", ImportStatus.SUCCEEDED: "success",
                  ImportStatus.REJECTED: "danger", ImportStatus.FAILED: "danger",
                  ImportStatus.CANCELLED: "secondary"}


@bp.url_value_preprocessor
def _raise_upload_limit(endpoint, values) -> None:
    """Only the upload accepts a large body. Set here, before the request hooks: the CSRF
    check reads the form, so the limit must be raised before it does."""
    if endpoint == "imports.new" and request.method == "POST":
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]


@bp.errorhandler(413)
def _too_large(error):
    limit = current_app.config["IMPORT_MAX_BYTES"]
    message = _("The file is too large: the largest file accepted is %(size)s MB. Split it, or "
                "ask an administrator to import it from the command line.",
                size=f"{round(limit / 1048576, 1):g}")
    return render_template("errors/error.html", code=413, title=_("File too large"),
                           message=message), 413


@bp.context_processor
def _helpers() -> dict:
    return {"kinds": KINDS, "status_labels": STATUS_LABELS, "status_classes": STATUS_CLASSES,
            "outcome": reporting.outcome, "summary_lines": reporting.summary_lines,
            "message_line": reporting.message_line, "message_text": reporting.message_text}


@bp.get("/")
@require(IMPORTER)
def index():
    page = paginate(db.session, services.visible_reports(current_user))
    return render_template("imports/index.html", page=page)


def _reference_codes() -> dict:
    """The codes the reference columns accept in this instance (territories, programs and
    their strata): two queries."""
    return {"territories": db.session.scalars(select(Territory).order_by(Territory.code)).all(),
            "programs": db.session.scalars(select(Program).options(
                selectinload(Program.strata)).order_by(Program.code)).all()}


@bp.route("/new", methods=["GET", "POST"])
@require(IMPORTER)
def new():
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("imports/new.html", form=form, **_reference_codes()), \
            400 if form.errors else 200
    options = engine.ImportOptions(
        dry_run=form.dry_run.data, skip_invalid=form.skip_invalid.data,
        accept_duplicates=form.accept_duplicates.data,
        territory_id=permissions.import_territory(current_user))
    file_name = os.path.basename((form.file.data.filename or "").replace("\\", "/"))
    report = import_work.start(db.session, current_actor(), form.kind.data, file_name, options,
                               form.file.data.stream, str(get_locale()))
    db.session.commit()
    return redirect(url_for(".show", report_id=report.id))


@bp.get("/formats")
@require(IMPORTER)
def formats():
    """The user documentation of the formats (docs/imports.md), rendered inside the application
    (raw HTML in the document is escaped)."""
    document = DOCS / "imports.md"
    if not document.is_file():
        abort(404)
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(
        document.read_text(encoding="utf-8"))
    return render_template("imports/formats.html", document=Markup(html))  # noqa: S704


@bp.get("/examples/<kind>.csv")  # docs/imports.md links examples/KIND.csv
@require(IMPORTER)
def example(kind: str):
    """The example file of a format (docs/examples/KIND.csv), to download."""
    path = DOCS / "examples" / f"{kind}.csv"
    if kind not in KINDS or not path.is_file():
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name=f"{kind}.csv")


def _report_or_404(report_id: int) -> ImportReport:
    report = db.session.get(ImportReport, report_id)
    abort_if_hidden(permissions.can_read_import_report(current_user, report))
    return report


@bp.get("/<int:report_id>")
@require(IMPORTER)
def show(report_id: int):
    report = _report_or_404(report_id)
    return render_template("imports/show.html", report=report,
                           progress=work.state(db.session, report.work_item_id))


@bp.get("/<int:report_id>/messages.csv")
@require(IMPORTER)
def messages_csv(report_id: int):
    """The report's errors and warnings to download, in the reader's language."""
    report = _report_or_404(report_id)
    content = services.messages_csv(db.session, current_actor(), report)
    db.session.commit()
    return Response(content, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="import-{report.id}-messages.csv"'})


@bp.get("/<int:report_id>/progress")
@require(IMPORTER)
def progress_fragment(report_id: int):
    """The progress bar while the import runs, then the report (the polling stops)."""
    report = _report_or_404(report_id)
    return render_template("imports/_progress.html", report=report,
                           progress=work.state(db.session, report.work_item_id))


@bp.post("/<int:report_id>/cancel")
@require(IMPORTER)
def cancel(report_id: int):
    """Cancel the import: nothing is written."""
    report = db.session.get(ImportReport, report_id)
    abort_if_hidden(permissions.can_cancel_import(current_user, report))
    if report.work_item_id is not None and not report.is_finished:
        work.cancel(db.session, report.work_item_id)
        db.session.commit()
    return redirect(url_for(".show", report_id=report.id))
