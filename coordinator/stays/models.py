"""Hospital stays and dated clinical events (immunizations, diagnoses, ED visits, lab results).

A stay comes from a form, a CSV extract, the API or an HL7 v2 ADT feed; its `external_id` is the
hospital's visit number (PV1-19) or the extract's identifier. Its readmission flags and LACE
score are derived: `stays.readmissions` and `stays.lace` recompute them whenever a stay of the
patient changes, in SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from coordinator.core.time import PARIS, utcnow
from coordinator.core.types import UTCDateTime, enum_type
from coordinator.extensions import db
from coordinator.patients.models import Patient


class AdmissionMode(StrEnum):
    EMERGENCY = "emergency"
    PLANNED = "planned"
    TRANSFER = "transfer"


class DischargeDestination(StrEnum):
    HOME = "home"
    HOME_WITH_SERVICES = "home_with_services"
    NURSING_HOME = "nursing_home"
    REHABILITATION = "rehabilitation"
    TRANSFER = "transfer"
    DEATH = "death"
    OTHER = "other"


class StaySource(StrEnum):
    FORM = "form"
    CSV = "csv"
    API = "api"
    HL7 = "hl7"
    DEMO = "demo"


class EventType(StrEnum):
    IMMUNIZATION = "immunization"
    DIAGNOSIS = "diagnosis"
    ED_VISIT = "ed_visit"
    LAB_RESULT = "lab_result"


ADMISSION_MODES = tuple(AdmissionMode)
DESTINATIONS = tuple(DischargeDestination)
# Destinations after which a stay is not an index stay (metrics.md, readmission_30d).
NOT_INDEX_DESTINATIONS = (DischargeDestination.DEATH, DischargeDestination.TRANSFER)
# The generated column `stay.is_index_stay` (migration 0022 writes the same text).
IS_INDEX_STAY_SQL = (
    "discharged_at IS NOT NULL AND cancelled_at IS NULL AND (discharge_destination IS NULL OR "
    "discharge_destination NOT IN ("
    + ", ".join(f"'{d.value}'" for d in NOT_INDEX_DESTINATIONS) + "))")
STAY_FILLFACTOR = 75
EVENT_TYPES = tuple(EventType)
IMMUNIZATION_CODES = ("influenza", "covid19", "pneumococcal", "other")


def _values(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


def local_day(moment: datetime | None) -> date | None:
    """The Europe/Paris day of an instant (an aware one; a naive one is taken as UTC, as stored)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).date()


class Stay(db.Model):
    __tablename__ = "stay"
    __table_args__ = (
        CheckConstraint(f"admission_mode IN ({_values(ADMISSION_MODES)})", name="mode_known"),
        CheckConstraint(f"discharge_destination IS NULL OR discharge_destination IN "
                        f"({_values(DESTINATIONS)})", name="destination_known"),
        CheckConstraint("discharged_at IS NULL OR discharged_at >= admitted_at",
                        name="discharge_after_admission"),
        Index("ix_stay_patient_admitted", "patient_id", "admitted_at"),
        Index("ix_stay_discharged", "discharged_at"),
        CheckConstraint("(discharged_at IS NULL) = (discharged_on IS NULL)",
                        name="discharge_day_known"),
        # PostgreSQL: a quarter of each page left free, so that rewriting a stay's derived
        # columns (readmission links, LACE; none of them indexed) is a heap-only update, with
        # no new index entries (docs/performance.md, readmission flags).
        {"postgresql_with": {"fillfactor": STAY_FILLFACTOR}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    facility_name: Mapped[str] = mapped_column(String(200))
    facility_finess: Mapped[str | None] = mapped_column(String(9))
    location: Mapped[str | None] = mapped_column(String(100))  # ward / unit (PV1-3)
    admitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    admission_mode: Mapped[AdmissionMode] = mapped_column(enum_type(AdmissionMode, 16))
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The Europe/Paris local days of admitted_at and discharged_at, kept in step with them by
    # the validators below (zoneinfo, the one Paris calendar of core.time): the readmission
    # window and the length of stay count local days in SQL, alike on SQLite and PostgreSQL.
    admitted_on: Mapped[date] = mapped_column(Date)
    discharged_on: Mapped[date | None] = mapped_column(Date)
    discharge_destination: Mapped[DischargeDestination | None] = mapped_column(
        enum_type(DischargeDestination, 20))
    main_diagnosis: Mapped[str | None] = mapped_column(String(8))  # ICD-10, normalised "I50.9"
    # A cancelled admission (HL7 A11, or by hand) is kept, audited, and counts nowhere.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Derived, by the database itself on every write (a stored generated column, on SQLite
    # and PostgreSQL alike): discharged, not cancelled, destination neither death nor transfer
    # (stays.readmissions, metrics.md). Never written by the application.
    is_index_stay: Mapped[bool] = mapped_column(
        Boolean, Computed(IS_INDEX_STAY_SQL, persisted=True))
    # The readmission links, derived from this table by stays.readmissions.recompute (their
    # only writer) and never pointing outside it: no foreign key and no index, so that writing
    # them neither locks the stay they point to nor adds index entries (migration 0024,
    # docs/performance.md). Stays are never deleted.
    # The index stay this emergency admission readmits (0-30 days after its discharge).
    readmission_of_id: Mapped[int | None] = mapped_column(Integer)
    # The first emergency admission that readmits this index stay.
    readmitted_by_id: Mapped[int | None] = mapped_column(Integer)
    # Derived at discharge (stays.lace); NULL while the stay is open.
    lace_score: Mapped[int | None] = mapped_column(Integer)
    lace_length: Mapped[int | None] = mapped_column(Integer)
    lace_acuity: Mapped[int | None] = mapped_column(Integer)
    lace_comorbidity: Mapped[int | None] = mapped_column(Integer)
    lace_emergency_visits: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[StaySource] = mapped_column(enum_type(StaySource, 8), default=StaySource.FORM)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()
    diagnoses: Mapped[list[StayDiagnosis]] = relationship(
        back_populates="stay", order_by="StayDiagnosis.position", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @validates("admitted_at", "discharged_at")
    def _keep_local_day(self, key: str, value: datetime | None) -> datetime | None:
        day = local_day(value)
        if key == "admitted_at":
            self.admitted_on = day  # type: ignore[assignment]
        else:
            self.discharged_on = day
        return value

    @property
    def is_open(self) -> bool:
        return self.discharged_at is None and self.cancelled_at is None

    def __repr__(self) -> str:
        return f"<Stay {self.id} patient={self.patient_id} {self.admitted_at}>"


class StayDiagnosis(db.Model):
    """A further diagnosis of a stay (DG1 segments, the form's list), ICD-10 normalised."""

    __tablename__ = "stay_diagnosis"
    __table_args__ = (UniqueConstraint("stay_id", "code", name="one_code_per_stay"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("stay.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(8), index=True)
    position: Mapped[int] = mapped_column(Integer, default=1)

    stay: Mapped[Stay] = relationship(back_populates="diagnoses")


class ClinicalEvent(db.Model):
    """A dated clinical event (`events` CSV): immunization, diagnosis, ED visit, lab result."""

    __tablename__ = "clinical_event"
    __table_args__ = (
        CheckConstraint(f"event_type IN ({_values(EVENT_TYPES)})", name="type_known"),
        Index("ix_clinical_event_patient_type_on", "patient_id", "event_type", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    event_type: Mapped[EventType] = mapped_column(enum_type(EventType, 16))
    code: Mapped[str] = mapped_column(String(32))  # ICD-10 normalised for diagnoses
    occurred_on: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    label: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[StaySource] = mapped_column(enum_type(StaySource, 8), default=StaySource.FORM)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()

    __mapper_args__ = {"version_id_col": version}
