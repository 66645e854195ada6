"""Reading import reports: administrators read every report, case managers their own."""

from __future__ import annotations

from sqlalchemy import Select, select

from coordinator.auth.roles import Role
from coordinator.imports.models import ImportReport


def can_read_report(user, report: ImportReport | None) -> bool:
    if report is None or not user.is_authenticated:
        return False
    return user.role == Role.ADMIN or (user.role == Role.CASE_MANAGER
                                       and report.user_id == user.id)


def visible_reports(user) -> Select:
    """The reports `user` may read, newest first (same rule as above)."""
    query = select(ImportReport).order_by(ImportReport.started_at.desc(), ImportReport.id.desc())
    if user.role == Role.ADMIN:
        return query
    return query.where(ImportReport.user_id == user.id)


def territory_scope(user) -> int | None:
    """The territory whose rows `user` may import: None for every territory (administrators);
    a case manager imports only rows of their own territory (0, none at all, without one)."""
    if user.role == Role.ADMIN:
        return None
    return user.territory_id or 0
