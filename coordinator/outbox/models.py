"""A message of the outbox: one row per message, its key unique."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SHOWN = "shown"


class OutboxMessage(db.Model):
    """A message to send (e-mail when SMTP is configured) or to show in the application; its
    key makes the daily jobs idempotent (one reminder per appointment, say)."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'shown')",
                        name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str | None] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # The language it was written in: its recipient's (None: written before it was recorded).
    locale: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus, 16),
                                                 default=OutboxStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
