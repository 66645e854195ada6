"""The outbox's periodic job (listed in `web.register_jobs`)."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from coordinator.outbox import delivery


def deliver_outbox(session: Session, now: datetime) -> Generator[None, None, dict[str, int]]:
    """E-mail the pending messages of the outbox (when SMTP is configured), each exactly once;
    in steps that the runner commits (see `delivery.deliver`)."""
    return (yield from delivery.deliver(session, current_app.config, now))
