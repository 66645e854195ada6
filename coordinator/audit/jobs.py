"""The periodic job of the audit trail (listed in `web.register_jobs`)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from coordinator.audit import chain


def purge_audit_entries(session: Session, now: datetime) -> dict[str, int]:
    """Entries older than AUDIT_RETENTION_DAYS (default 365) are deleted; the chain stays
    verifiable from the anchor the purge leaves (`chain.purge`)."""
    return chain.purge(session.connection(), now, int(current_app.config["AUDIT_RETENTION_DAYS"]))
