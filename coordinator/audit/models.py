"""The audit trail table. Rows are only ever inserted: the ORM refuses updates and deletes, and
database triggers (see the migration) refuse them too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.core import messages
from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime
from coordinator.extensions import db

SUMMARY_CODE = "summary_code"  # the key of `details` keeping a summary's message code


class AuditAction:
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    PRINT = "print"
    EXPORT = "export"
    MERGE = "merge"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"

    ALL = (READ, CREATE, UPDATE, DELETE, PRINT, EXPORT, MERGE, LOGIN, LOGIN_FAILED, LOGOUT)


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(32), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(index=True)
    summary: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[dict | None] = mapped_column(JSON)
    @property
    def display_summary(self) -> str:
        """The summary in the reader's language when its code was kept (`details`), else as
        written."""
        code = (self.details or {}).get(SUMMARY_CODE) if isinstance(self.details, dict) \
            else None
        return messages.render(code, fallback=self.summary)

    # The hash chain (audit/chain.py): set when the entry is written, never by hand.
    sequence: Mapped[int] = mapped_column(BigInteger, unique=True)
    previous_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(db.Model):
    """One row: the chain's last entry (sequence, hash), locked by each writer while it
    writes, and the anchor left by the retention purge (the last purged entry)."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    anchor_sequence: Mapped[int] = mapped_column(BigInteger)
    anchor_hash: Mapped[str] = mapped_column(String(64))
    anchor_occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditImmutableError(RuntimeError):
    """Raised when code tries to change or delete an audit row."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise AuditImmutableError("audit entries are append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AuditImmutableError("audit entries are append-only")
