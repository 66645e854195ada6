"""Individual care plans (HAS "plan personnalisé de coordination en santé", PPCS).

A plan has the four parts of the PPCS: identification (patient, GP, coordinator, trusted person,
caregiver, legal protection), the patient's words and the multidimensional assessment, the plan
itself (needs → goals → actions, with who and when) and its follow-up (review date, agreement,
status). Every saved change bumps `version` and writes an immutable `CarePlanRevision` holding a
snapshot of the whole plan.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.auth.models import User
from coordinator.core import messages
from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.strata.models import Stratum
from coordinator.strata.vocabulary import ASSESSMENT_DOMAINS  # shared with the strata's goals


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class GoalStatus(StrEnum):
    OPEN = "open"
    ACHIEVED = "achieved"
    ABANDONED = "abandoned"


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class Responsible(StrEnum):
    """Who carries out a plan action."""

    PROVIDER = "provider"
    PATIENT = "patient"
    CAREGIVER = "caregiver"


PLAN_STATUSES = tuple(PlanStatus)
GOAL_STATUSES = tuple(GoalStatus)
ACTION_STATUSES = tuple(ActionStatus)
RESPONSIBLES = tuple(Responsible)
LEGAL_PROTECTIONS = ("none", "safeguard", "curatorship", "guardianship", "family_authorisation",
                     "future_protection")
AGREEMENT_METHODS = ("oral", "written", "signed", "representative")


def _values(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class CarePlan(db.Model):
    __tablename__ = "care_plan"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(PLAN_STATUSES)})", name="status_known"),
        CheckConstraint(f"legal_protection IN ({_values(LEGAL_PROTECTIONS)})",
                        name="legal_protection_known"),
        UniqueConstraint("patient_id", "plan_number"),
        # At most one active plan per patient, whatever the application does.
        Index("ux_care_plan_one_active", "patient_id", unique=True,
              sqlite_where=text("status = 'active'"),
              postgresql_where=text("status = 'active'")),
        Index("ix_care_plan_status_review", "status", "review_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    plan_number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per patient
    status: Mapped[PlanStatus] = mapped_column(enum_type(PlanStatus, 16),
                                               default=PlanStatus.DRAFT)
    stratum_id: Mapped[int | None] = mapped_column(ForeignKey("stratum.id"))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"),
                                                       index=True)
    plan_date: Mapped[date] = mapped_column(Date)
    review_date: Mapped[date | None] = mapped_column(Date)
    caregiver_name: Mapped[str | None] = mapped_column(String(200))
    caregiver_relation: Mapped[str | None] = mapped_column(String(100))
    caregiver_phone: Mapped[str | None] = mapped_column(String(40))
    legal_protection: Mapped[str] = mapped_column(String(32), default="none")
    legal_protection_details: Mapped[str | None] = mapped_column(String(300))
    expectations: Mapped[str] = mapped_column(Text, default="")
    priorities: Mapped[str] = mapped_column(Text, default="")
    life_project: Mapped[str] = mapped_column(Text, default="")
    current_help: Mapped[str] = mapped_column(Text, default="")
    agreement_on: Mapped[date | None] = mapped_column(Date)
    agreement_method: Mapped[str | None] = mapped_column(String(32))
    sharing_agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    close_reason: Mapped[str | None] = mapped_column(Text)  # as written (the literal fallback)
    # A reason the system gave (superseded, merged records): its code (core/messages.py).
    close_reason_code: Mapped[dict | None] = mapped_column(JSON)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("care_plan.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()
    stratum: Mapped[Stratum | None] = relationship()

    @property
    def display_close_reason(self) -> str | None:
        """Why the plan closed, in the reader's language when the system said it."""
        return messages.render(self.close_reason_code, fallback=self.close_reason) or None
    coordinator: Mapped[User | None] = relationship()
    supersedes: Mapped[CarePlan | None] = relationship(remote_side=[id])
    assessments: Mapped[list[CarePlanAssessment]] = relationship(
        back_populates="plan", cascade="all, delete-orphan")
    goals: Mapped[list[CarePlanGoal]] = relationship(
        back_populates="plan", order_by="CarePlanGoal.position", cascade="all, delete-orphan")
    team: Mapped[list[CarePlanMember]] = relationship(
        back_populates="plan", order_by="CarePlanMember.position", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    def assessment(self, domain: str) -> CarePlanAssessment | None:
        return next((a for a in self.assessments if a.domain == domain), None)

    def __repr__(self) -> str:
        return f"<CarePlan {self.id} patient={self.patient_id} {self.status}>"


class CarePlanAssessment(db.Model):
    """The summary of one domain of the multidimensional assessment, and the needs found."""

    __tablename__ = "care_plan_assessment"
    __table_args__ = (
        UniqueConstraint("plan_id", "domain"),
        CheckConstraint(f"domain IN ({_values(ASSESSMENT_DOMAINS)})", name="domain_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"))
    domain: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")
    needs: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[CarePlan] = relationship(back_populates="assessments")


class CarePlanGoal(db.Model):
    """A need or problem, and the patient-centred goal agreed for it."""

    __tablename__ = "care_plan_goal"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(GOAL_STATUSES)})", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    domain: Mapped[str | None] = mapped_column(String(32))
    problem: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text)  # as written (the literal fallback)
    # A goal the system wrote, unchanged since: its message code (core/messages.py).
    description_code: Mapped[dict | None] = mapped_column(JSON)
    measure: Mapped[str | None] = mapped_column(String(300))
    target_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(enum_type(GoalStatus, 16),
                                               default=GoalStatus.OPEN)
    status_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def display_description(self) -> str:
        """The goal in the reader's language when the system wrote it, else as written."""
        return messages.render(self.description_code, fallback=self.description)

    plan: Mapped[CarePlan] = relationship(back_populates="goals")
    actions: Mapped[list[CarePlanAction]] = relationship(
        back_populates="goal", order_by="CarePlanAction.position", cascade="all, delete-orphan")


class CarePlanAction(db.Model):
    """Who does what, and when: a provider of the directory, the patient or the caregiver; a
    frequency (every `interval_days` days, `occurrences` times) or a due date."""

    __tablename__ = "care_plan_action"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(ACTION_STATUSES)})", name="status_known"),
        CheckConstraint(f"responsible IN ({_values(RESPONSIBLES)})", name="responsible_known"),
        CheckConstraint("interval_days IS NULL OR interval_days >= 1", name="interval_positive"),
        CheckConstraint("occurrences IS NULL OR occurrences >= 1", name="occurrences_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("care_plan_goal.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text)
    responsible: Mapped[Responsible] = mapped_column(enum_type(Responsible, 16),
                                                     default=Responsible.PROVIDER)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    interval_days: Mapped[int | None] = mapped_column(Integer)
    occurrences: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(enum_type(ActionStatus, 16),
                                                 default=ActionStatus.PLANNED)

    goal: Mapped[CarePlanGoal] = relationship(back_populates="actions")
    provider: Mapped[Provider | None] = relationship()


class CarePlanMember(db.Model):
    """A provider of the care team (the patient's GP is always on it)."""

    __tablename__ = "care_plan_member"
    __table_args__ = (UniqueConstraint("plan_id", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(200), default="")

    plan: Mapped[CarePlan] = relationship(back_populates="team")
    provider: Mapped[Provider] = relationship()


CHANGE_SEPARATOR = " \u203a "  # between the parts of a changed field's label


class CarePlanRevision(db.Model):
    """One saved state of a plan (who, when, what changed, and the whole plan): append-only."""

    __tablename__ = "care_plan_revision"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # the plan's version once saved
    event: Mapped[str] = mapped_column(String(32))  # created, edited, activated, closed...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    author_label: Mapped[str] = mapped_column(String(254))
    changed: Mapped[list] = mapped_column(JSON, default=list)  # labels of the changed fields
    # The same labels as codes, part by part (core/messages.py; None before they existed).
    changed_codes: Mapped[list | None] = mapped_column(JSON)
    snapshot: Mapped[dict] = mapped_column(JSON)

    @property
    def display_changed(self) -> list[str]:
        """What changed, in the reader's language (as its author read it, for an old row)."""
        if not self.changed_codes:
            return list(self.changed or [])
        return [CHANGE_SEPARATOR.join(messages.render_value(part) for part in parts)
                for parts in self.changed_codes]


class CarePlanComment(db.Model):
    """A dated note left on a plan by a reader of the care team (a GP, say) for the case
    manager."""

    __tablename__ = "care_plan_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"), index=True)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    author_label: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RevisionImmutableError(RuntimeError):
    """Raised when code tries to change or delete a plan revision."""


@event.listens_for(CarePlanRevision, "before_update")
def _refuse_update(mapper, connection, target):
    raise RevisionImmutableError("care plan revisions are append-only")


@event.listens_for(CarePlanRevision, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RevisionImmutableError("care plan revisions are append-only")
