"""Printed documents: the cache of rendered PDFs, and batch print jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db


class BatchStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PrintKind(StrEnum):
    """What a batch print holds: care plans (`document_ids`), or a council report of the
    registry's figures (`parameters`: what was asked, checked again at download)."""

    CARE_PLANS = "care_plans"
    METRICS_REPORT = "metrics_report"


KIND_VALUES = ", ".join(f"'{kind.value}'" for kind in PrintKind)


class PrintedDocument(db.Model):
    """A rendered PDF, keyed by the SHA-256 of the HTML it was rendered from: the same content
    in the same language (the same plan revision, say) is rendered once."""

    __tablename__ = "printed_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    pages: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PrintBatch(db.Model):
    """Several documents printed into one PDF as background work: `status` running (queued or
    running: its work item tells the progress to any process) → succeeded | failed |
    cancelled; `total` documents."""

    __tablename__ = "print_batch"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'succeeded', 'failed', 'cancelled')",
                        name="status_known"),
        CheckConstraint(f"kind IN ({KIND_VALUES})", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[BatchStatus] = mapped_column(enum_type(BatchStatus, 16),
                                                default=BatchStatus.RUNNING)
    total: Mapped[int] = mapped_column(Integer)
    work_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_item.id", ondelete="SET NULL"), index=True)
    pages: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    # What was printed, so that a download checks again that the user may still read it all.
    document_ids: Mapped[list | None] = mapped_column(JSON)
    kind: Mapped[PrintKind] = mapped_column(enum_type(PrintKind, 32),
                                            default=PrintKind.CARE_PLANS,
                                            server_default=PrintKind.CARE_PLANS.value)
    # What else a document needs to be checked again at download (a report: its selection).
    parameters: Mapped[dict | None] = mapped_column(JSON)
