"""Runs of the periodic jobs: one row per job and schedule slot (the unique pair is the lease
that lets exactly one process run a slot, whatever the number of processes or hosts)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db


class JobStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobTrigger(StrEnum):
    """What started a run (stored in a plain VARCHAR: the column has no CHECK constraint)."""

    SCHEDULE = "schedule"
    MANUAL = "manual"


class JobRun(db.Model):
    __tablename__ = "job_run"
    __table_args__ = (
        UniqueConstraint("name", "slot"),
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    # The schedule's slot (e.g. "2026-11-24T13" for an hourly job); a run by hand has its own.
    slot: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(16), default=JobTrigger.SCHEDULE)
    host: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus, 16),
                                              default=JobStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int | None] = mapped_column()
    counts: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
