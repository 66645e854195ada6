"""The LACE index of a discharged stay (van Walraven C, Dhalla IA, Bell C, et al. *Derivation
and validation of an index to predict early death or unplanned readmission after discharge
from hospital to the community.* CMAJ 2010;182(6):551-557, Table 3: the points).

- **L**, length of stay in days (discharge day minus admission day, Europe/Paris local days):
  less than 1 → 0, 1 → 1, 2 → 2, 3 → 3, 4 to 6 → 4, 7 to 13 → 5, 14 or more → 7.
- **A**, acuity: 3 for an emergency admission, else 0.
- **C**, the Charlson comorbidity index (`charlson`, Quan 2005 codes, original weights) of the
  ICD-10 codes known at discharge: the main and further diagnoses of the patient's
  non-cancelled stays admitted up to this one (this one included), and the patient's
  `diagnosis` events dated up to the discharge day. 0 to 3 as is, 4 or more → 5.
- **E**, emergency department visits: the patient's `ed_visit` events dated from 183 days
  before the admission day to the admission day, not counting the one that led to this
  admission (one visit dated the admission day, when the admission is an emergency). 0 to 3 as
  is, 4 or more → 4.

Score = L + A + C + E, 0 to 19; 10 or more is high risk. Open and cancelled stays have none
(the `lace_*` columns are NULL).

`refresh(session, stay_ids)` reads the stays, the patients' codes and ED visits in a fixed
number of queries per batch of 1,000 stays (never one per stay), scores in Python (the Charlson
table is a Python mapping; `stay_points`, the one scoring of a stay, which the registry
generator also calls on the stays it writes) and writes the stays whose values change with one
executemany UPDATE per batch (`updated_at` and `version` untouched: derived values, not an
edit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import bindparam, select, union_all, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coordinator.stays import charlson
from coordinator.stays.models import (
    AdmissionMode,
    ClinicalEvent,
    EventType,
    Stay,
    StayDiagnosis,
)

HIGH_RISK = 10
ED_LOOKBACK_DAYS = 183
BATCH = 1000
COLUMNS = ("lace_score", "lace_length", "lace_acuity", "lace_comorbidity",
           "lace_emergency_visits")
_KEYS = ("score", "length", "acuity", "comorbidity", "emergency_visits")  # COLUMNS' points


def length_points(days: int) -> int:
    if days < 1:
        return 0
    if days <= 3:
        return days
    if days <= 6:
        return 4
    if days <= 13:
        return 5
    return 7


def acuity_points(mode: AdmissionMode | str) -> int:
    return 3 if mode == AdmissionMode.EMERGENCY else 0


def comorbidity_points(charlson_index: int) -> int:
    return charlson_index if charlson_index <= 3 else 5


def emergency_visit_points(visits: int) -> int:
    return visits if visits <= 3 else 4


def score(*, length_days: int, mode: AdmissionMode | str, charlson_index: int,
          ed_visits: int) -> dict[str, int]:
    """The LACE points: {"score", "length", "acuity", "comorbidity", "emergency_visits"}."""
    points = {
        "length": length_points(length_days),
        "acuity": acuity_points(mode),
        "comorbidity": comorbidity_points(charlson_index),
        "emergency_visits": emergency_visit_points(ed_visits),
    }
    return {"score": sum(points.values()), **points}


def is_high_risk(lace_score: int | None) -> bool:
    return lace_score is not None and lace_score >= HIGH_RISK


def components(stay: Stay) -> dict[str, int | None] | None:
    """The stored LACE of a stay as the API and the pages show it: {"score", "length",
    "acuity", "comorbidity", "emergency_visits"}; None while it has none (open, cancelled)."""
    if stay.lace_score is None:
        return None
    return {
        "score": stay.lace_score,
        "length": stay.lace_length,
        "acuity": stay.lace_acuity,
        "comorbidity": stay.lace_comorbidity,
        "emergency_visits": stay.lace_emergency_visits,
    }


# --- refresh ----------------------------------------------------------------------------------

_STAY = Stay.__table__


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield list(ids[start:start + BATCH])


def refresh(session: Session, stay_ids: Collection[int] | None) -> None:
    """Set the `lace_*` columns of these stays (None: of every stay) from the data in the
    session: scored when discharged and not cancelled, NULL otherwise."""
    session.flush()
    if stay_ids is None:
        patients = session.scalars(select(_STAY.c.patient_id).distinct()
                                   .order_by(_STAY.c.patient_id)).all()
        for batch in _chunks(patients):
            _refresh(session, _STAY.c.patient_id.in_(batch))
    else:
        for batch in _chunks(sorted(set(stay_ids))):
            _refresh(session, _STAY.c.id.in_(batch))
    _expire_loaded(session, None if stay_ids is None else set(stay_ids))


def refresh_patients(session: Session, patient_ids: Collection[int]) -> None:
    """Set the `lace_*` columns of every stay of these patients (as `refresh` does for stays),
    without first listing the stays' ids."""
    session.flush()
    for batch in _chunks(sorted(set(patient_ids))):
        _refresh(session, _STAY.c.patient_id.in_(batch))
    wanted = set(patient_ids)
    _expire_loaded(session, {instance.id for instance in session.identity_map.values()
                             if isinstance(instance, Stay) and instance.patient_id in wanted})


def _refresh(session: Session, which: ColumnElement[bool]) -> None:
    """Score the stays selected by `which`; write only those whose stored values differ."""
    stays = session.execute(
        select(_STAY.c.id, _STAY.c.patient_id, _STAY.c.admitted_at, _STAY.c.admitted_on,
               _STAY.c.discharged_on, _STAY.c.admission_mode, _STAY.c.cancelled_at,
               *(_STAY.c[column] for column in COLUMNS))
        .where(which)).all()
    scored = [row for row in stays if row.discharged_on is not None and row.cancelled_at is None]
    scored_ids = {row.id for row in scored}
    unscored = [row.id for row in stays if row.id not in scored_ids
                and any(getattr(row, column) is not None for column in COLUMNS)]
    if unscored:
        session.execute(update(_STAY).where(_STAY.c.id.in_(unscored))
                        .values({**dict.fromkeys(COLUMNS), "updated_at": _STAY.c.updated_at}))
    if not scored:
        return
    patients = sorted({row.patient_id for row in scored})
    stay_codes, event_codes = _codes(session, patients)
    earliest = min(row.admitted_on for row in scored) - timedelta(days=ED_LOOKBACK_DAYS)
    visits = _ed_visits(session, patients, earliest)
    values = []
    for row in scored:
        points = stay_points(admitted_at=_aware(row.admitted_at), admitted_on=row.admitted_on,
                             discharged_on=row.discharged_on, mode=row.admission_mode,
                             stay_codes=stay_codes[row.patient_id],
                             event_codes=event_codes[row.patient_id],
                             ed_visits=visits[row.patient_id])
        if tuple(points[key] for key in _KEYS) != tuple(getattr(row, c) for c in COLUMNS):
            values.append({"row_id": row.id, **{f"new_{key}": points[key] for key in _KEYS}})
    if values:
        session.execute(
            update(_STAY).where(_STAY.c.id == bindparam("row_id")).values(
                lace_score=bindparam("new_score"), lace_length=bindparam("new_length"),
                lace_acuity=bindparam("new_acuity"),
                lace_comorbidity=bindparam("new_comorbidity"),
                lace_emergency_visits=bindparam("new_emergency_visits"),
                updated_at=_STAY.c.updated_at),  # derived: the stay itself is not changed
            values)


def stay_points(*, admitted_at: datetime, admitted_on: date, discharged_on: date,
                mode: AdmissionMode | str, stay_codes: Iterable[tuple[datetime, str]],
                event_codes: Iterable[tuple[date, str]], ed_visits: Iterable[date]
                ) -> dict[str, int]:
    """The LACE points of one discharged stay from its patient's facts (see the module):
    `stay_codes` the (admission instant, ICD-10 code) of the main and further diagnoses of the
    patient's stays that are not cancelled, `event_codes` the (day, code) of their `diagnosis`
    events, `ed_visits` the days of their `ed_visit` events. What `refresh` reads from the
    database, and what the registry generator knows of the stays it writes."""
    known = {code for at, code in stay_codes if at <= admitted_at}
    known.update(code for occurred_on, code in event_codes if occurred_on <= discharged_on)
    return score(length_days=(discharged_on - admitted_on).days, mode=mode,
                 charlson_index=charlson.index(known),
                 ed_visits=_visits_before(ed_visits, admitted_on, mode))


def _codes(session: Session, patients: list[int]) -> tuple[
        dict[int, list[tuple[datetime, str]]], dict[int, list[tuple[date, str]]]]:
    """The patients' diagnosis codes: of their non-cancelled stays (with the stay's admission)
    and of their `diagnosis` events (with their day)."""
    stay = _STAY
    diagnosis = StayDiagnosis.__table__
    live = (stay.c.patient_id.in_(patients), stay.c.cancelled_at.is_(None))
    main = select(stay.c.patient_id, stay.c.admitted_at, stay.c.main_diagnosis.label("code")) \
        .where(*live, stay.c.main_diagnosis.is_not(None))
    further = select(stay.c.patient_id, stay.c.admitted_at, diagnosis.c.code) \
        .join(diagnosis, diagnosis.c.stay_id == stay.c.id).where(*live)
    stay_codes: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for patient_id, admitted_at, code in session.execute(union_all(main, further)):
        stay_codes[patient_id].append((_aware(admitted_at), code))
    event = ClinicalEvent.__table__
    event_codes: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for patient_id, occurred_on, code in session.execute(
            select(event.c.patient_id, event.c.occurred_on, event.c.code)
            .where(event.c.patient_id.in_(patients),
                   event.c.event_type == EventType.DIAGNOSIS.value)):
        event_codes[patient_id].append((occurred_on, code))
    return stay_codes, event_codes


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _ed_visits(session: Session, patients: list[int], earliest: date) -> dict[int, list[date]]:
    event = ClinicalEvent.__table__
    visits: dict[int, list[date]] = defaultdict(list)
    for patient_id, occurred_on in session.execute(
            select(event.c.patient_id, event.c.occurred_on)
            .where(event.c.patient_id.in_(patients),
                   event.c.event_type == EventType.ED_VISIT.value,
                   event.c.occurred_on >= earliest)):
        visits[patient_id].append(occurred_on)
    return visits


def _visits_before(days: Iterable[date], admitted_on: date, mode: AdmissionMode | str) -> int:
    start = admitted_on - timedelta(days=ED_LOOKBACK_DAYS)
    in_window = [day for day in days if start <= day <= admitted_on]
    if mode == AdmissionMode.EMERGENCY and admitted_on in in_window:
        return len(in_window) - 1  # the visit that led to this admission
    return len(in_window)


def _expire_loaded(session: Session, stay_ids: set[int] | None) -> None:
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Stay) and (stay_ids is None or instance.id in stay_ids):
            session.expire(instance, list(COLUMNS))
