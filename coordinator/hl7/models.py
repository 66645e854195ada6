"""Every HL7 v2 message received, kept whole: the idempotence key (MSH-10 per sender), what it
did, and the reconciliation state of those whose patient matched no record or several."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.stays.models import Stay
from coordinator.strata.models import Territory


class MessageStatus(StrEnum):
    APPLIED = "applied"        # acknowledged AA, its effect committed
    PENDING = "pending"        # acknowledged AA, held in the reconciliation list
    LINKED = "linked"          # was pending; linked to a record by a case manager, then applied
    REJECTED = "rejected"      # was pending; rejected by a case manager
    ERROR = "error"            # acknowledged AE/AR, nothing applied


class Hl7Message(db.Model):
    __tablename__ = "hl7_message"
    __table_args__ = (
        CheckConstraint("status IN ('applied', 'pending', 'linked', 'rejected', 'error')",
                        name="status_known"),
        CheckConstraint("ack_code IN ('AA', 'AE', 'AR')", name="ack_known"),
        # A resent message (same sender, same MSH-10) changes nothing: it gets the first ACK.
        UniqueConstraint("sending_application", "sending_facility", "control_id",
                         name="one_message_per_control_id"),
        Index("ix_hl7_message_status_territory", "status", "territory_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    control_id: Mapped[str] = mapped_column(String(64))                 # MSH-10
    sending_application: Mapped[str] = mapped_column(String(100), default="")  # MSH-3
    sending_facility: Mapped[str] = mapped_column(String(100), default="")     # MSH-4
    message_type: Mapped[str] = mapped_column(String(16), default="")  # MSH-9, e.g. ADT^A01
    trigger_event: Mapped[str] = mapped_column(String(8), default="")  # A01, A03...
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    received_by: Mapped[str] = mapped_column(String(254), default="")  # account, or "mllp"
    channel: Mapped[str] = mapped_column(String(8), default="mllp")    # mllp | http
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(enum_type(MessageStatus, 16))
    ack_code: Mapped[str] = mapped_column(String(2))
    error: Mapped[str | None] = mapped_column(Text)  # the reason given in ERR
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territory.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    stay_id: Mapped[int | None] = mapped_column(ForeignKey("stay.id", ondelete="SET NULL"))
    # Why it waits for reconciliation: "no_match" or "several_matches" (codes, rendered).
    reconciliation_reason: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(254))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # The ACK answered, whole (ER7): a resent message gets exactly this answer again.
    ack: Mapped[str | None] = mapped_column(Text)
    # Who the message is about, as the hospital sent it (PID-5, PID-7, PID-8, PID-3) and the
    # visit number (PV1-19): the reconciliation list shows them without parsing every message.
    patient_name: Mapped[str | None] = mapped_column(String(200))
    patient_birth_date: Mapped[date | None] = mapped_column(Date)
    patient_sex: Mapped[str | None] = mapped_column(String(1))
    patient_identifiers: Mapped[str | None] = mapped_column(String(300))
    visit_number: Mapped[str | None] = mapped_column(String(64))

    territory: Mapped[Territory | None] = relationship()
    patient: Mapped[Patient | None] = relationship()
    stay: Mapped[Stay | None] = relationship()
