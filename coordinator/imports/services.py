"""Reading import reports (who reads which: `permissions.can_read_import_report`)."""

from __future__ import annotations

from sqlalchemy import Select, select

from coordinator import permissions
from coordinator.auth.models import User
from coordinator.imports.models import ImportReport


def visible_reports(user: User) -> Select:
    """The reports `user` may read, newest first."""
    return (select(ImportReport)
            .where(permissions.import_report_scope(user, ImportReport.user_id))
            .order_by(ImportReport.started_at.desc(), ImportReport.id.desc()))
