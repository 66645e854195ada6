"""The patient registry: identity, contact, care team links, consent, trusted person."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.auth.models import User
from coordinator.core.time import utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db
from coordinator.providers.models import Provider
from coordinator.strata.models import Territory

# Folded names are compared byte-wise ("C" collation on PostgreSQL, BINARY on SQLite), so that a
# prefix search is an index range scan on both databases.
FoldedName = String(200).with_variant(String(200, collation="C"), "postgresql")


class IdentityStatus(StrEnum):
    """A provisional identity, or one qualified against the national identity (INS)."""

    PROVISIONAL = "provisional"
    QUALIFIED = "qualified"


class Patient(db.Model):
    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint("sex IN ('F', 'M', 'U')", name="sex_known"),
        CheckConstraint("identity_status IN ('provisional', 'qualified')", name="identity_known"),
        Index("ix_patient_identity", "birth_name_folded", "birth_date"),
        Index("ix_patient_territory_case_manager", "territory_id", "case_manager_id"),
        # Partial: almost every row has NULL here, and a full index tempts SQLite's planner
        # into scanning it for `merged_into_id IS NULL` instead of using the name indexes.
        Index("ix_patient_merged_into_id", "merged_into_id",
              sqlite_where=text("merged_into_id IS NOT NULL"),
              postgresql_where=text("merged_into_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    nir: Mapped[str | None] = mapped_column(String(15), index=True)
    identity_status: Mapped[IdentityStatus] = mapped_column(enum_type(IdentityStatus, 16),
                                                            default=IdentityStatus.PROVISIONAL)
    birth_name: Mapped[str] = mapped_column(String(200))
    used_name: Mapped[str | None] = mapped_column(String(200))
    first_names: Mapped[str] = mapped_column(String(200))
    birth_name_folded: Mapped[str] = mapped_column(FoldedName)
    used_name_folded: Mapped[str | None] = mapped_column(FoldedName, index=True)
    first_name_folded: Mapped[str] = mapped_column(String(200))  # first of the first names
    birth_date: Mapped[date] = mapped_column(Date, index=True)
    sex: Mapped[str] = mapped_column(String(1))
    birth_place_insee: Mapped[str | None] = mapped_column(String(5))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    # The language the patient's messages (reminders) are written in: one of `LANGUAGES`.
    language: Mapped[str] = mapped_column(String(8), default="fr", server_default="fr")
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"))
    gp_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    case_manager_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    consent_share: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_date: Mapped[date | None] = mapped_column(Date)
    trusted_person_name: Mapped[str | None] = mapped_column(String(200))
    trusted_person_relation: Mapped[str | None] = mapped_column(String(100))
    trusted_person_phone: Mapped[str | None] = mapped_column(String(40))
    advance_directives: Mapped[bool] = mapped_column(Boolean, default=False)
    advance_directives_date: Mapped[date | None] = mapped_column(Date)
    deceased_date: Mapped[date | None] = mapped_column(Date)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    territory: Mapped[Territory] = relationship()
    gp: Mapped[Provider | None] = relationship()
    case_manager: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        """Used name (else birth name) in capitals, then the first names."""
        return f"{(self.used_name or self.birth_name).upper()} {self.first_names}"

    def __repr__(self) -> str:
        return f"<Patient {self.id} {self.birth_name}>"


# How a patient expressed a consent or its withdrawal (asked when it is withdrawn).
CONSENT_EXPRESSIONS = ("oral", "written", "email", "representative", "other")


class ConsentEvent(db.Model):
    """Each grant or withdrawal of the consent to share the plan, kept as history, with how
    the patient expressed it (`CONSENT_EXPRESSIONS`; None when not recorded: a grant, an
    import, the history before it was asked)."""

    __tablename__ = "consent_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    consent_share: Mapped[bool] = mapped_column(Boolean)
    effective_date: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_label: Mapped[str] = mapped_column(String(254))
    expressed_as: Mapped[str | None] = mapped_column(String(20))
