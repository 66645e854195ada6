"""Tasks, contacts and alert acknowledgements.

A task is one model for every kind of follow-up work (the transition-of-care protocol creates
the first two kinds): what is due, by when, for whom, and what resolved it (a contact, an
attended appointment, a person). Later kinds reuse it: add a `TaskKind`, never a new table.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.auth.models import User
from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.scheduling.models import Appointment
from coordinator.stays.models import Stay


class TaskKind(StrEnum):
    DISCHARGE_CONTACT = "discharge_contact"  # call within 2 working days of a discharge
    DISCHARGE_VISIT = "discharge_visit"      # visit within 7 (LACE >= 10) or 14 days


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class TaskResolution(StrEnum):
    CONTACT = "contact"              # a contact was recorded (its outcome on the contact)
    APPOINTMENT = "appointment"      # an attended appointment fell in the window
    MANUAL = "manual"                # closed by a person, with a note
    STAY_CANCELLED = "stay_cancelled"  # its discharge or admission was cancelled
    READMITTED = "readmitted"        # the patient is back in hospital before it was done
    DECEASED = "deceased"


class ContactChannel(StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    TELECONSULTATION = "teleconsultation"
    MESSAGE = "message"


class ContactOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    LEFT_MESSAGE = "left_message"
    WRONG_NUMBER = "wrong_number"
    REFUSED = "refused"


class AlertKind(StrEnum):
    ADMITTED = "admitted"                      # an open stay of a caseload patient
    DISCHARGED_WITHOUT_FOLLOWUP = "discharged_without_followup"  # last 7 days, no contact/visit
    READMITTED = "readmitted"


def _values(enum) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Contact(db.Model):
    """A contact of the case manager with a patient (or the attempt), with its outcome."""

    __tablename__ = "contact"
    __table_args__ = (
        CheckConstraint(f"channel IN ({_values(ContactChannel)})", name="channel_known"),
        CheckConstraint(f"outcome IN ({_values(ContactOutcome)})", name="outcome_known"),
        Index("ix_contact_patient_at", "patient_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[ContactChannel] = mapped_column(enum_type(ContactChannel, 20))
    outcome: Mapped[ContactOutcome] = mapped_column(enum_type(ContactOutcome, 20))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship()
    user: Mapped[User | None] = relationship()


class Task(db.Model):
    __tablename__ = "task"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(TaskKind)})", name="kind_known"),
        CheckConstraint(f"status IN ({_values(TaskStatus)})", name="status_known"),
        CheckConstraint(f"resolution IS NULL OR resolution IN ({_values(TaskResolution)})",
                        name="resolution_known"),
        # One task of a kind per stay: the protocol is idempotent.
        UniqueConstraint("stay_id", "kind", name="one_kind_per_stay"),
        Index("ix_task_assignee_status_due", "assignee_id", "status", "due_on"),
        Index("ix_task_patient_status", "patient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(enum_type(TaskKind, 32))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # What the task follows (nullable: later kinds may follow something else).
    stay_id: Mapped[int | None] = mapped_column(ForeignKey("stay.id", ondelete="SET NULL"),
                                                index=True)
    window_start: Mapped[date] = mapped_column(Date)  # from this day an action counts
    due_on: Mapped[date] = mapped_column(Date)        # overdue the day after
    status: Mapped[TaskStatus] = mapped_column(enum_type(TaskStatus, 16),
                                               default=TaskStatus.OPEN)
    resolution: Mapped[TaskResolution | None] = mapped_column(enum_type(TaskResolution, 20))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(254))  # e-mail, or "system"
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()
    assignee: Mapped[User | None] = relationship()
    stay: Mapped[Stay | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    appointment: Mapped[Appointment | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class AlertAcknowledgement(db.Model):
    """A worklist alert a case manager has seen and dealt with: the alert is live (computed from
    stays, contacts and appointments); this row hides it, audited."""

    __tablename__ = "alert_acknowledgement"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(AlertKind)})", name="kind_known"),
        UniqueConstraint("kind", "stay_id", name="one_ack_per_alert"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(enum_type(AlertKind, 32))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("stay.id", ondelete="CASCADE"))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
