"""The patient banner: who the patient of a page is, at a glance, on every patient page.

`banner_of` answers a small `Banner` in a constant number of queries (whatever the patient's
plans, appointments or timeline rows): the identity and age read from the loaded patient, the
GP and case manager (two lookups by key, none when already loaded), the current strata
(`assignments.current_strata`, the one definition of "current stratum"), the last consent
event when the consent is not given, and the flags of the higher domains through the extension
point `PATIENT_BANNER` (the care plans' "review overdue", the metrics' recent no-shows; one
query each, wired in `coordinator/web.py`).

What a viewer is shown follows `permissions.py`: whoever may open the record sees the whole
banner; anyone else reaching a patient page (a GP or a care-team professional reading a shared
plan) sees the identity, the age, the sex, the GP and the date of death, which that page
already shows them, and nothing of the record (no strata, case manager, plans or appointments).
Computing the banner writes nothing: it is part of the page's own audited read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, cast

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from coordinator.auth.models import User
from coordinator.core import extending
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.patients.assignments import current_strata
from coordinator.patients.models import ConsentEvent, Patient
from coordinator.permissions import can_view_patient
from coordinator.strata.models import Stratum

# providers: f(session, patient, today) -> dict of `Banner` flag fields (review_overdue,
# recent_no_shows), asked only for a viewer who may open the record
PATIENT_BANNER = "patient.banner"
RECENT_NO_SHOW_DAYS = 90  # "recent no-shows": those of the last 90 days, today included


@dataclass(frozen=True)
class BannerStratum:
    program: str
    code: str
    name: str


@dataclass(frozen=True)
class Banner:
    patient_id: int
    birth_name: str
    used_name: str | None
    first_names: str
    birth_date: date
    age: int
    sex: str
    deceased_date: date | None
    gp_name: str | None
    details: bool  # the viewer may open the record: what follows is shown
    case_manager_name: str | None = None
    strata: tuple[BannerStratum, ...] = ()
    consent_withdrawn: bool = False
    review_overdue: bool = False
    recent_no_shows: int = 0
    recent_days: int = RECENT_NO_SHOW_DAYS

    @property
    def deceased(self) -> bool:
        return self.deceased_date is not None


def age_on(birth_date: date, day: date) -> int:
    """Full years on `day` (a birthday on 29 February is reached on 1 March in other years)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _consent_withdrawn(session: Session, patient: Patient) -> bool:
    """The consent is not given and the last consent event is its withdrawal (a patient who
    never consented has nothing withdrawn)."""
    if patient.consent_share:
        return False
    last = session.scalar(
        select(ConsentEvent.consent_share).where(ConsentEvent.patient_id == patient.id)
        .order_by(ConsentEvent.recorded_at.desc(), ConsentEvent.id.desc()).limit(1))
    return last is False


def banner_of(session: Session, patient: Patient, today: date, *,
              details: bool = True) -> Banner:
    """The banner of `patient` on `today` (a Paris day); `details`: the viewer may open the
    record (see `for_viewer`). At most 6 queries, whatever the patient's rows."""
    last_day = min(today, patient.deceased_date) if patient.deceased_date else today
    identity = Banner(
        patient_id=patient.id, birth_name=patient.birth_name, used_name=patient.used_name,
        first_names=patient.first_names, birth_date=patient.birth_date,
        age=age_on(patient.birth_date, last_day), sex=patient.sex,
        deceased_date=patient.deceased_date,
        gp_name=patient.gp.name if patient.gp else None, details=False)
    if not details:
        return identity
    strata = current_strata(session, patient.id, today, options=(joinedload(Stratum.program),))
    flags: dict[str, Any] = {}
    for function in extending.providers(PATIENT_BANNER):
        flags.update(function(session=session, patient=patient, today=today))
    return replace(
        identity, details=True,
        case_manager_name=patient.case_manager.full_name if patient.case_manager else None,
        strata=tuple(BannerStratum(s.program.display_name, s.code, s.display_name)
                     for s in sorted(strata, key=lambda s: (s.program.code, s.code))),
        consent_withdrawn=_consent_withdrawn(session, patient),
        **flags,
    )


def for_viewer(session: Session, viewer: User, patient: Patient, today: date) -> Banner:
    """The banner `viewer` is shown on a patient page: the whole banner for whoever may open
    the record (`can_view_patient`), the identity part for anyone else the page lets in."""
    return banner_of(session, patient, today, details=can_view_patient(viewer, patient))


def for_page(patient: Patient) -> Banner:
    """The one call of a patient page's view: the banner of `patient` for the signed-in user,
    today in Paris (the view passes it to its template as `banner`; base.html shows it)."""
    return for_viewer(cast(Session, db.session), current_user, patient, local_today())
