"""Providers of the directory."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime
from coordinator.extensions import db
from coordinator.strata.models import Territory
from coordinator.strata.vocabulary import PROVIDER_KINDS

__all__ = ["PROVIDER_KINDS", "Provider"]

KIND_VALUES = ", ".join(f"'{kind}'" for kind in PROVIDER_KINDS)


class Provider(db.Model):
    __tablename__ = "provider"
    __table_args__ = (
        CheckConstraint(f"kind IN ({KIND_VALUES})", name="kind_known"),
        Index("ix_provider_territory_kind", "territory_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    rpps: Mapped[str | None] = mapped_column(String(11))
    finess: Mapped[str | None] = mapped_column(String(9))
    organisation: Mapped[str | None] = mapped_column(String(200))
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    territory: Mapped[Territory] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Provider {self.kind} {self.name}>"
