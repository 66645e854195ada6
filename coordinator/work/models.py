"""Work items: the long work of the application (an import, a batch print, an export), stored
so that any worker process may run it, any web process may show its progress, and a restart
loses nothing. See `coordinator/work/__init__.py` for the life of an item."""

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
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db


class WorkStatus(StrEnum):
    """queued → running → succeeded | failed | cancelled; a running item whose worker stopped
    goes back to queued (or to failed once its attempts are spent)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in FINISHED


FINISHED = frozenset({WorkStatus.SUCCEEDED, WorkStatus.FAILED, WorkStatus.CANCELLED})
STATUS_VALUES = ", ".join(f"'{status.value}'" for status in WorkStatus)


class WorkItem(db.Model):
    """One piece of long work. `kind` names its handler (see `registry`), `payload` is what the
    handler needs (JSON). `attempts` counts the claims; (`claimed_by`, `attempts`) identifies
    the current attempt, and every write of a worker is fenced by it, so that a worker that lost
    its claim (declared dead, then woke up) writes nothing. `done` of `total` is the progress
    (`counts`: what else the handler reports with it, e.g. rows read)."""

    __tablename__ = "work_item"
    __table_args__ = (
        CheckConstraint(f"status IN ({STATUS_VALUES})", name="status_known"),
        Index("ix_work_item_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[WorkStatus] = mapped_column(enum_type(WorkStatus, 16),
                                               default=WorkStatus.QUEUED)
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int | None] = mapped_column(BigInteger)
    counts: Mapped[dict | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<WorkItem {self.id} {self.kind} {self.status}>"


class WorkBlob(db.Model):
    """The input of an item that is too large for its payload (an uploaded file), in chunks
    read one at a time, so that any worker, on any host, reads it with flat memory. Deleted when
    the item ends."""

    __tablename__ = "work_blob"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("work_item.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class WorkerBeat(db.Model):
    """A worker alive: its latest heartbeat, written by the worker every
    `WORK_HEARTBEAT_SECONDS` whether or not it runs an item, deleted when it stops cleanly (a
    killed worker's row stays, ever older; rows a day old are forgotten). /healthz reads the
    latest (`coordinator/work/health.py`). PostgreSQL only: on SQLite the heartbeats are files
    beside the database, like the items' live progress (see `beacon`)."""

    __tablename__ = "work_worker"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<WorkerBeat {self.name} {self.beat_at}>"
