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


@pytest.mark.parametrize(("admitted", "discharged", "mode", "codes", "visits", "expected"), [
    # a planned two-day stay, nothing known: L2
    ("2026-03-02T08:00", "2026-03-04T10:00", PLANNED, (), 0, (2, 2, 0, 0, 0)),
    # in and out the same day, emergency, COPD: L0 A3 C1
    ("2026-03-02T08:00", "2026-03-02T20:00", EMERGENCY, ("J44.9",), 0, (4, 0, 3, 1, 0)),
    # 14 days, emergency, metastatic cancer (6 -> 5), five earlier ED visits (-> 4): the maximum
    ("2026-03-02T08:00", "2026-03-16T10:00", EMERGENCY, ("C34.1", "C78.0"), 5,
     (19, 7, 3, 5, 4)),
    # 3 days, a transfer admission, MI + heart failure + renal disease (4 -> 5), two ED visits
    ("2026-03-02T08:00", "2026-03-05T10:00", AdmissionMode.TRANSFER,
     ("I21.4", "I50.9", "N18.4"), 2, (10, 3, 0, 5, 2)),
    # 7 days (the L 5 band starts), planned, diabetes with complications (2), three visits
    ("2026-03-02T08:00", "2026-03-09T07:00", PLANNED, ("E11.2",), 3, (10, 5, 0, 2, 3)),
])
def test_hand_built_examples(app, admitted, discharged, mode, codes, visits, expected):
    """Scored by hand from van Walraven 2010, Table 3."""
    patient = make_patient()
    for n in range(visits):
        event(patient, EventType.ED_VISIT, f"2026-02-{n + 1:02d}")
    row = stay(patient, admitted, discharged, mode=mode, main=codes[0] if codes else None,
               further=codes[1:])
    lace.refresh(db.session, [row.id])
    assert tuple(stored(row).values()) == expected


def test_length_counts_paris_days(app):
    """In at 23:30 and out at 00:30 Paris the next day: one day, although one hour."""
    patient = make_patient()
    row = stay(patient, "2026-03-02T23:30", "2026-03-03T00:30", mode=PLANNED)
    lace.refresh(db.session, [row.id])
    assert stored(row)["length"] == 1


def test_the_codes_known_at_discharge(app):
    """Earlier stays' codes and diagnosis events up to the discharge day count; a later stay's,
    a cancelled stay's and a later event's do not."""
    patient = make_patient()
    stay(patient, "2025-06-01T10:00", "2025-06-03T10:00", main="J44.9")          # COPD 1
    stay(patient, "2025-09-01T10:00", "2025-09-03T10:00", main="C34.1", cancelled=True)
    event(patient, EventType.DIAGNOSIS, "2026-03-10", "E11.9")                   # diabetes 1
    event(patient, EventType.DIAGNOSIS, "2026-03-11", "N18.4")                   # after
    event(patient, EventType.IMMUNIZATION, "2026-01-10", "I21.4")                # not a diagnosis
    row = stay(patient, "2026-03-05T10:00", "2026-03-10T10:00", mode=PLANNED, main="I50.9")
    later = stay(patient, "2026-06-01T10:00", "2026-06-02T10:00", mode=PLANNED, main="G81.1")
    lace.refresh(db.session, [row.id, later.id])
    assert stored(row)["comorbidity"] == 3        # COPD + diabetes + heart failure
    assert stored(later)["comorbidity"] == 5      # + renal 2 + hemiplegia 2 = 7 -> 5


def test_ed_visits_of_the_183_days_before_admission(app):
    patient = make_patient()
    event(patient, EventType.ED_VISIT, "2025-09-03")   # 184 days before 2026-03-06: too old
    event(patient, EventType.ED_VISIT, "2025-09-04")   # 183 days before: counted
    event(patient, EventType.ED_VISIT, "2026-03-01")
    event(patient, EventType.ED_VISIT, "2026-03-06")   # the admission day: led to it
    event(patient, EventType.ED_VISIT, "2026-03-08")   # during the stay: after admission
    row = stay(patient, "2026-03-06T10:00", "2026-03-10T10:00")
    lace.refresh(db.session, [row.id])
    assert stored(row)["emergency_visits"] == 2


def test_an_ed_visit_the_day_of_a_planned_admission_counts(app):
    patient = make_patient()
    event(patient, EventType.ED_VISIT, "2026-03-06")
    event(patient, EventType.ED_VISIT, "2026-03-06")
    planned = stay(patient, "2026-03-06T10:00", "2026-03-10T10:00", mode=PLANNED)
    lace.refresh(db.session, [planned.id])
    assert stored(planned)["emergency_visits"] == 2
    other = make_patient()
    event(other, EventType.ED_VISIT, "2026-03-06")
    event(other, EventType.ED_VISIT, "2026-03-06")
    emergency = stay(other, "2026-03-06T10:00", "2026-03-10T10:00")
    lace.refresh(db.session, [emergency.id])
    assert stored(emergency)["emergency_visits"] == 1  # only the one that led to it is left out


def test_refresh_after_the_discharge_is_cancelled_or_added(app):
    patient = make_patient()
    row = stay(patient, "2026-03-06T10:00", "2026-03-10T10:00")
    lace.refresh(db.session, [row.id])
    assert stored(row)["score"] == 7
    row.discharged_at = None
    row.discharge_destination = None
    lace.refresh(db.session, [row.id])
    assert stored(row) is None
    row.discharged_at = paris("2026-03-30T10:00")
    lace.refresh(db.session, [row.id])
    assert stored(row)["length"] == 7


def test_refresh_of_every_stay_leaves_the_stays_unchanged_otherwise(app):
    patient = make_patient()
    row = stay(patient, "2026-03-06T10:00", "2026-03-10T10:00", main="I50.9")
    db.session.commit()
    version, updated_at = row.version, row.updated_at
    lace.refresh(db.session, None)
    assert stored(row)["score"] == 8
    assert (row.version, row.updated_at) == (version, updated_at)


@pytest.mark.parametrize("stays", [5, 40])
def test_refresh_sends_a_fixed_number_of_statements(app, count_queries, stays):
    """Not one query per stay: the stays, their codes (2) and ED visits, one UPDATE; none
    when nothing changed."""
    ids = []
    for n in range(stays):
        patient = make_patient()
        event(patient, EventType.ED_VISIT, "2026-02-01")
        event(patient, EventType.DIAGNOSIS, "2026-02-01", "E11.9")
        ids.append(stay(patient, "2026-03-06T10:00", "2026-03-10T10:00", main="I50.9",
                        further=("J44.9",)).id)
        if n % 5 == 0:
            ids.append(stay(patient, "2026-04-06T10:00").id)   # an open one
    db.session.commit()
    with count_queries() as queries:
        lace.refresh(db.session, ids)
    assert queries.count == 5, queries.report()
    db.session.commit()
    with count_queries() as queries:
        lace.refresh(db.session, ids)
    assert queries.count == 4, queries.report()
    scores = {lace.components(db.session.get(Stay, i))["score"]
              for i in ids if db.session.get(Stay, i).discharged_at}
    assert scores == {4 + 3 + 3 + 1}


def test_the_worked_example_of_the_spec(app):
    """examples/: PAT-001 has a heart-failure diagnosis (EVT-005) and an ED visit on
    2026-01-20 (EVT-004). STY-001, emergency, 5 to 12 March: L 5 (7 days) + A 3 + C 1 (heart
    failure) + E 1 = 10; STY-002, emergency, 8 to 15 April: the same, 10."""
    patient = make_patient()
    event(patient, EventType.DIAGNOSIS, "2025-09-01", "I50.9")
    event(patient, EventType.ED_VISIT, "2026-01-20")
    event(patient, EventType.IMMUNIZATION, "2025-10-15", "influenza")
    first = stay(patient, "2026-03-05T22:10", "2026-03-12T11:00", main="I50.9")
    second = stay(patient, "2026-04-08T03:40", "2026-04-15T00:00", main="I50.9",
                  destination=DischargeDestination.HOME_WITH_SERVICES)
    lace.refresh(db.session, None)
    assert stored(first) == stored(second) == {
        "score": 10, "length": 5, "acuity": 3, "comorbidity": 1, "emergency_visits": 1}
