"""Reading import reports (who reads which: `permissions.can_read_import_report`), and their
messages as CSV."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coordinator import permissions
from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.core.csvutil import safe_cell
from coordinator.imports import reporting
from coordinator.imports.models import ImportReport


def visible_reports(user: User) -> Select:
    """The reports `user` may read, newest first."""
    return (select(ImportReport)
            .where(permissions.import_report_scope(user, ImportReport.user_id))
            .order_by(ImportReport.started_at.desc(), ImportReport.id.desc()))


def messages_csv(session: Session, actor: Actor, report: ImportReport) -> str:
    """The report's errors, then its warnings, as CSV in the reader's language (audited: the
    messages may quote the file's values)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Type"), _("Line"), _("Column"), _("Message")])
    for kind, entries in ((_("Error"), report.errors or []),
                          (_("Warning"), report.warnings or [])):
        for entry in entries:
            writer.writerow(safe_cell(value) for value in (
                kind, entry.get("line") if entry.get("line") is not None else "",
                entry.get("column") or "", reporting.message_text(entry)))
    audit.record(session, actor, AuditAction.EXPORT, "import_report", report.id,
                 summary=f"errors and warnings of import {report.id}")
    return buffer.getvalue()
