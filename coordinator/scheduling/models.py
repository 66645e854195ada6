"""Follow-up appointments, rounds grouping them, and calendar feeds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.core import messages
from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider


class AppointmentKind(StrEnum):
    CONSULTATION = "consultation"
    HOME_VISIT = "home_visit"
    TELECONSULTATION = "teleconsultation"
    GROUP_SESSION = "group_session"


class AppointmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED_PATIENT = "cancelled_patient"
    CANCELLED_PROVIDER = "cancelled_provider"


class NoShowReason(StrEnum):
    FORGOT = "forgot"
    TRANSPORT = "transport"
    HOSPITALISED = "hospitalised"
    REFUSED = "refused"
    OTHER = "other"


APPOINTMENT_KINDS = tuple(AppointmentKind)
STATUSES = tuple(AppointmentStatus)
OUTCOMES = STATUSES[1:]
# The checked lifecycle: an outcome is recorded once, from `scheduled` only.
TRANSITIONS: dict[str, tuple[AppointmentStatus, ...]] = {AppointmentStatus.SCHEDULED: OUTCOMES}
NO_SHOW_REASONS = tuple(NoShowReason)
MAX_MINUTES = 12 * 60


def _values(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class FollowUpRound(db.Model):
    """The appointments of several providers for one patient, seen and moved together."""

    __tablename__ = "followup_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))  # as written (the literal fallback)
    # A name the system gave (the series' source): its message code (core/messages.py).
    label_code: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))

    @property
    def display_label(self) -> str:
        """The name in the reader's language."""
        return messages.render(self.label_code, fallback=self.label)

    appointments: Mapped[list[Appointment]] = relationship(
        back_populates="round", order_by="Appointment.starts_at")


class Appointment(db.Model):
    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(APPOINTMENT_KINDS)})", name="kind_known"),
        CheckConstraint(f"status IN ({_values(STATUSES)})", name="status_known"),
        CheckConstraint(f"duration_minutes >= 1 AND duration_minutes <= {MAX_MINUTES}",
                        name="duration_range"),
        CheckConstraint(f"no_show_reason IS NULL OR no_show_reason IN "
                        f"({_values(NO_SHOW_REASONS)})", name="reason_known"),
        Index("ix_appointment_provider_starts", "provider_id", "starts_at"),
        Index("ix_appointment_patient_starts", "patient_id", "starts_at"),
        Index("ix_appointment_status_ends", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    kind: Mapped[AppointmentKind] = mapped_column(enum_type(AppointmentKind, 20),
                                                  default=AppointmentKind.CONSULTATION)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())  # kept by the service
    place: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("care_plan_action.id"),
                                                  index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("followup_round.id"), index=True)
    status: Mapped[AppointmentStatus] = mapped_column(enum_type(AppointmentStatus, 20),
                                                      default=AppointmentStatus.SCHEDULED)
    outcome_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome_recorded_by: Mapped[str | None] = mapped_column(String(254))
    # Set by the hourly job when the appointment ended without an outcome.
    outcome_missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rescheduled_to_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    overlap_reason: Mapped[str | None] = mapped_column(Text)  # why a double-booking was kept
    no_show_reason: Mapped[NoShowReason | None] = mapped_column(enum_type(NoShowReason, 20))
    # The patient's no-shows in a row as of this appointment, once it has an outcome: among
    # their appointments with an outcome in start order, a no-show counts one more than the
    # one before, an attended one 0, a cancelled one keeps the count before it. Written by
    # services.count_consecutive_no_shows only (None while scheduled).
    consecutive_no_shows: Mapped[int | None] = mapped_column(Integer)
    outreach_note: Mapped[str | None] = mapped_column(Text)
    outreach_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outreach_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="")
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()
    provider: Mapped[Provider] = relationship()
    round: Mapped[FollowUpRound | None] = relationship(back_populates="appointments")
    rescheduled_to: Mapped[Appointment | None] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Appointment {self.id} {self.starts_at} {self.status}>"


class CalendarFeed(db.Model):
    """A secret address serving the appointments of a provider or a patient as iCalendar, for
    calendar applications; only the token's SHA-256 is stored; revoking ends it at once."""

    __tablename__ = "calendar_feed"
    __table_args__ = (
        CheckConstraint("(provider_id IS NULL) <> (patient_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    # The account that created it (None: a command or job): disabled, the feed stops serving.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
