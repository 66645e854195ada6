"""Reference data of the population approach: territories, programs, strata."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.core.i18n import Localized
from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime
from coordinator.extensions import db


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    strata: Mapped[list[Stratum]] = relationship(
        back_populates="program", order_by="Stratum.level", cascade="all, delete-orphan"
    )

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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    program: Mapped[Program] = relationship(back_populates="strata")

    def __repr__(self) -> str:
        return f"<Stratum {self.code}>"
