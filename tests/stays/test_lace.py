"""LACE (van Walraven 2010, CMAJ 182:551): the points, and the stored score of each stay."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from coordinator.core.time import as_utc
from coordinator.extensions import db
from coordinator.stays import lace
from coordinator.stays.models import (
    AdmissionMode,
    ClinicalEvent,
    DischargeDestination,
    EventType,
    Stay,
    StayDiagnosis,
)
from tests.factories import make_patient

EMERGENCY, PLANNED = AdmissionMode.EMERGENCY, AdmissionMode.PLANNED


def paris(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text))


def stay(patient, admitted: str, discharged: str | None = None, *, mode=EMERGENCY,
         main: str | None = None, further: tuple[str, ...] = (), cancelled: bool = False,
         destination=DischargeDestination.HOME) -> Stay:
    row = Stay(patient=patient, facility_name="CH de Douai", admitted_at=paris(admitted),
               admission_mode=mode, main_diagnosis=main,
               discharged_at=paris(discharged) if discharged else None,
               discharge_destination=destination if discharged else None,
               cancelled_at=datetime.now(UTC) if cancelled else None,
               diagnoses=[StayDiagnosis(code=code, position=n)
                          for n, code in enumerate(further, 1)])
    db.session.add(row)
    db.session.flush()
    return row


def event(patient, kind: EventType, on: str, code: str = "-") -> ClinicalEvent:
    row = ClinicalEvent(patient=patient, event_type=kind, code=code,
                        occurred_on=date.fromisoformat(on))
    db.session.add(row)
    db.session.flush()
    return row


def stored(row: Stay):
    db.session.expire(row)
    return lace.components(row)


@pytest.mark.parametrize(("days", "points"), [
    (0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (6, 4), (7, 5), (13, 5), (14, 7), (90, 7)])
def test_length_points(days, points):
    assert lace.length_points(days) == points


@pytest.mark.parametrize(("index", "points"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 5), (12, 5)])
def test_comorbidity_points(index, points):
    assert lace.comorbidity_points(index) == points


@pytest.mark.parametrize(("visits", "points"), [(0, 0), (1, 1), (3, 3), (4, 4), (9, 4)])
def test_emergency_visit_points(visits, points):
    assert lace.emergency_visit_points(visits) == points


def test_extremes_of_the_score():
    assert lace.score(length_days=0, mode=PLANNED, charlson_index=0, ed_visits=0)["score"] == 0
    assert lace.score(length_days=30, mode=EMERGENCY, charlson_index=9,
                      ed_visits=7)["score"] == 19


def test_a_five_day_emergency_stay_with_heart_failure_diabetes_and_an_earlier_ed_visit(app):
    """L 4 (5 days) + A 3 + C 2 (CHF 1 + diabetes 1) + E 1 = 10: high risk. The ED visit of
    the admission day led to the admission and is not counted."""
    patient = make_patient()
    event(patient, EventType.ED_VISIT, "2026-01-20")
    event(patient, EventType.ED_VISIT, "2026-03-05")
    row = stay(patient, "2026-03-05T22:10", "2026-03-10T11:00", main="I50.9", further=("E11.9",))
    lace.refresh(db.session, [row.id])
    assert stored(row) == {"score": 10, "length": 4, "acuity": 3, "comorbidity": 2,
                           "emergency_visits": 1}
    assert lace.is_high_risk(row.lace_score)


def test_open_and_cancelled_stays_have_none(app):
    patient = make_patient()
    still_in = stay(patient, "2026-03-05T22:10", main="I50.9")
    cancelled = stay(patient, "2026-01-05T22:10", "2026-01-08T10:00", cancelled=True)
    lace.refresh(db.session, [still_in.id, cancelled.id])
    assert stored(still_in) is None and stored(cancelled) is None
