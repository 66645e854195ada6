"""Reference data of the population approach: territories, programs, strata."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.core.i18n import Localized
from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime
from coordinator.extensions import db
from coordinator.strata.vocabulary import ASSESSMENT_DOMAINS


class Territory(db.Model):
    """A health territory of the FHF experiment (e.g. DOUAISIS)."""

    __tablename__ = "territory"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Territory {self.code}>"


class Program(Localized, db.Model):
    """A shared clinical program for one population (heart failure, diabetes, ...)."""

    __tablename__ = "program"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    inclusion_criteria: Mapped[str] = mapped_column(Text, default="")
    inclusion_criteria_en: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    strata: Mapped[list[Stratum]] = relationship(
        back_populates="program", order_by="Stratum.level", cascade="all, delete-orphan"
    )
    indicators: Mapped[list[ProgramIndicator]] = relationship(
        back_populates="program", order_by="ProgramIndicator.code", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Program {self.code}>"


class Stratum(Localized, db.Model):
    """One level of a program's pyramid; level 3 patients need an individual care plan."""

    __tablename__ = "stratum"
    __table_args__ = (
        UniqueConstraint("program_id", "level"),
        CheckConstraint("level >= 1", name="level_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    level: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    requires_care_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    boundary_criteria: Mapped[str] = mapped_column(Text, default="")
    boundary_criteria_en: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    program: Mapped[Program] = relationship(back_populates="strata")
    followup_items: Mapped[list[FollowUpTemplateItem]] = relationship(
        back_populates="stratum", order_by="FollowUpTemplateItem.position",
        cascade="all, delete-orphan",
    )
    goals: Mapped[list[StratumGoal]] = relationship(
        back_populates="stratum", order_by="StratumGoal.position", cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Stratum {self.code}>"


class StratumGoal(Localized, db.Model):
    """A goal the stratum suggests for its patients' care plans, in a domain of the
    multidimensional assessment: a new plan starts with one goal of that domain for each."""

    __tablename__ = "stratum_goal"
    __table_args__ = (
        CheckConstraint(f"domain IN ({', '.join(repr(d) for d in ASSESSMENT_DOMAINS)})",
                        name="domain_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stratum_id: Mapped[int] = mapped_column(ForeignKey("stratum.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    domain: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)

    stratum: Mapped[Stratum] = relationship(back_populates="goals")


class FollowUpTemplateItem(Localized, db.Model):
    """One line of a stratum's follow-up template: e.g. nurse, every 14 days, 6 times."""

    __tablename__ = "followup_template_item"
    __table_args__ = (
        CheckConstraint("interval_days >= 1", name="interval_positive"),
        CheckConstraint("occurrences >= 1", name="occurrences_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stratum_id: Mapped[int] = mapped_column(ForeignKey("stratum.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    provider_kind: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str | None] = mapped_column(String(200))
    interval_days: Mapped[int] = mapped_column(Integer)
    occurrences: Mapped[int] = mapped_column(Integer)

    stratum: Mapped[Stratum] = relationship(back_populates="followup_items")


class ProgramIndicator(Localized, db.Model):
    """An indicator a program is measured by, with its target (e.g. flu_vaccination_65, 75 %)."""

    __tablename__ = "program_indicator"
    __table_args__ = (
        UniqueConstraint("program_id", "code"),
        CheckConstraint("target_percent >= 0 AND target_percent <= 100", name="target_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str | None] = mapped_column(String(200))
    target_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=False)

    program: Mapped[Program] = relationship(back_populates="indicators")


class StratumAssignment(db.Model):
    """From `effective_date`, the patient is in `stratum` of `program` (no stratum: an exit).

    The rows of one patient and program form a timeline: each row lasts until the day before
    the next one (`end_date`, kept by the service), the last one while it is open.
    """

    __tablename__ = "stratum_assignment"
    __table_args__ = (
        UniqueConstraint("patient_id", "program_id", "effective_date"),
        Index("ix_stratum_assignment_current", "program_id", "stratum_id", "end_date"),
        Index("ix_stratum_assignment_effective", "effective_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"))
    stratum_id: Mapped[int | None] = mapped_column(ForeignKey("stratum.id"))
    effective_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    author_label: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    program: Mapped[Program] = relationship()
    stratum: Mapped[Stratum | None] = relationship()

    @property
    def is_exit(self) -> bool:
        return self.stratum_id is None


class StratumCorrection(db.Model):
    """A correction of one row of a timeline (a mistyped date or stratum, or a row entered by
    mistake and cancelled): what the row said, what it says now, who corrected it and why.

    A correction is not a move: the corrected row is changed in place (a cancelled one is
    removed from the timeline), so the timeline, the worklists and the metrics read the
    corrected facts; this table keeps what was corrected. `assignment_id` names the row (no
    foreign key: a cancelled row no longer exists).
    """

    __tablename__ = "stratum_correction"
    __table_args__ = (
        Index("ix_stratum_correction_timeline", "patient_id", "program_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"))
    assignment_id: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    old_stratum_id: Mapped[int | None] = mapped_column(ForeignKey("stratum.id"))
    old_effective_date: Mapped[date] = mapped_column(Date)
    new_stratum_id: Mapped[int | None] = mapped_column(ForeignKey("stratum.id"))
    new_effective_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    author_label: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    program: Mapped[Program] = relationship()
    old_stratum: Mapped[Stratum | None] = relationship(foreign_keys=[old_stratum_id])
    new_stratum: Mapped[Stratum | None] = relationship(foreign_keys=[new_stratum_id])

    @property
    def changes_date(self) -> bool:
        return not self.cancelled and self.new_effective_date != self.old_effective_date

    @property
    def changes_stratum(self) -> bool:
        return not self.cancelled and self.new_stratum_id != self.old_stratum_id
