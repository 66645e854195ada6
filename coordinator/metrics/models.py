"""A territory's own targets for its programs' indicators, and their history.

A territory's council sets, for each indicator of each program, the target the territory aims
at; without one the program's target (`ProgramIndicator.target_percent`) applies. Each change
is kept (who, when, the old and the new value: None is the program's target)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime
from coordinator.extensions import db


class TerritoryTarget(db.Model):
    """The target (0 to 100 %) one territory sets for one indicator of a program."""

    __tablename__ = "territory_target"
    __table_args__ = (
        UniqueConstraint("territory_id", "indicator_id"),
        CheckConstraint("target_percent >= 0 AND target_percent <= 100", name="target_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"))
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("program_indicator.id", ondelete="CASCADE"), index=True)
    target_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class TerritoryTargetChange(db.Model):
    """One change of a territory's target: None as a value is the program's target (no target
    of the territory's own). Append-only."""

    __tablename__ = "territory_target_change"
    __table_args__ = (
        CheckConstraint("old_percent IS NULL OR (old_percent >= 0 AND old_percent <= 100)",
                        name="old_range"),
        CheckConstraint("new_percent IS NULL OR (new_percent >= 0 AND new_percent <= 100)",
                        name="new_range"),
        Index("ix_territory_target_change_territory", "territory_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"))
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("program_indicator.id", ondelete="CASCADE"), index=True)
    old_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    new_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_by_label: Mapped[str] = mapped_column(String(254))


class StoredCounts(db.Model):
    """The raw counts of one territory for one closed calendar period (a month, a quarter, a
    year) and one scope (`scope`: "" the whole registry, "P<id>" a program): what
    `figures.compute` gave for them at `computed_at`, kept by `metrics.stored.refresh` so that
    the dashboard reads them instead of counting again (`counts`: `figures.raw_to_json`).
    Derived data: a refresh writes them all again; nothing else writes them."""

    __tablename__ = "metric_stored_counts"
    __table_args__ = (
        UniqueConstraint("scope", "first_day", "last_day", "territory_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"))
    counts: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
