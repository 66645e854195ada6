"""The periodic job of printing (listed in `web.register_jobs`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from coordinator.printing import services


def purge_printed_documents(session: Session, now: datetime) -> dict[str, int]:
    """Patient documents do not pile up: old cached PDFs and batch PDFs are deleted
    (`services.purge`)."""
    return services.purge(session, now)
