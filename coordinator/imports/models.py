"""The stored report of every import: who ran it, when, on which file, and what came of it.

A report is kept even when the import wrote nothing (dry run, refused file, rolled back rows), so
that administrators can read later why a delivery was refused.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db


class ImportStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


STATUSES = tuple(ImportStatus)
STATUS_VALUES = ", ".join(f"'{status}'" for status in STATUSES)


class ImportReport(db.Model):
    """One run of the import engine on one file.

    `status`: running (queued or running as background work: `work_item_id` tells its
    progress), then succeeded (rows written, or a dry run without blocking error), rejected
    (the file or some rows were refused: nothing written), failed (an unexpected error, or its
    worker kept being stopped: nothing written) or cancelled (nothing written).
    `errors` and `warnings` hold at most the first
    `engine.MAX_STORED_MESSAGES` entries ({"line", "column", "message"}); `error_count` counts
    them all.
    """

    __tablename__ = "import_report"
    __table_args__ = (
        CheckConstraint(f"status IN ({STATUS_VALUES})", name="status_known"),
        Index("ix_import_report_user_started", "user_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[ImportStatus] = mapped_column(enum_type(ImportStatus, 16),
                                                 default=ImportStatus.RUNNING)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    # The background work that runs it (imports from the web); None from the command line.
    work_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_item.id", ondelete="SET NULL"), index=True)

    @property
    def is_finished(self) -> bool:
        return self.status != ImportStatus.RUNNING

    @property
    def wrote_rows(self) -> bool:
        """Whether the counts describe rows actually written (else: what the import would do)."""
        return self.status == ImportStatus.SUCCEEDED and not self.dry_run

    def __repr__(self) -> str:
        return f"<ImportReport {self.id} {self.kind} {self.status}>"
