"""30-day readmission flags, per metrics.md readmission_30d (run on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import exc, select, text

from coordinator.core.time import as_utc
from coordinator.extensions import db
from coordinator.stays import readmissions
from coordinator.stays.models import AdmissionMode, DischargeDestination, Stay
from tests.factories import make_patient

EMERGENCY, PLANNED, TRANSFER = AdmissionMode.EMERGENCY, AdmissionMode.PLANNED, \
    AdmissionMode.TRANSFER
HOME, DEATH, TO_TRANSFER = DischargeDestination.HOME, DischargeDestination.DEATH, \
    DischargeDestination.TRANSFER


def paris(text: str) -> datetime:
    """A Paris wall-clock time as the aware UTC instant the application stores."""
    return as_utc(datetime.fromisoformat(text))


def stay(patient, admitted: str, discharged: str | None = None, *, mode=EMERGENCY,
         destination=HOME, cancelled: bool = False, facility: str = "CH de Douai",
         external_id: str | None = None) -> Stay:
    row = Stay(patient=patient, facility_name=facility, admitted_at=paris(admitted),
               admission_mode=mode, external_id=external_id,
               discharged_at=paris(discharged) if discharged else None,
               discharge_destination=destination if discharged else None,
               cancelled_at=datetime.now(UTC) if cancelled else None)
    db.session.add(row)
    db.session.flush()
    return row


def flags(*stays: Stay) -> list[tuple[bool, int | None, int | None]]:
    db.session.expire_all()
    return [(s.is_index_stay, s.readmission_of_id, s.readmitted_by_id) for s in stays]


@pytest.fixture
def patient(app):
    return make_patient()


def test_the_worked_example_of_the_spec(app):
    """examples/stays.csv: STY-002 readmits STY-001 after 27 days; STY-003 is planned; STY-004
    ended in death and is not an index stay."""
    pat1, pat2, pat4 = make_patient(), make_patient(), make_patient()
    s1 = stay(pat1, "2026-03-05T22:10", "2026-03-12T11:00", external_id="STY-001")
    s2 = stay(pat1, "2026-04-08T03:40", "2026-04-15T00:00", external_id="STY-002",
              destination=DischargeDestination.HOME_WITH_SERVICES)
    s3 = stay(pat2, "2026-06-01T00:00", "2026-06-03T00:00", mode=PLANNED, external_id="STY-003")
    s4 = stay(pat4, "2026-02-01T00:00", "2026-02-10T00:00", destination=DEATH,
              external_id="STY-004")
    readmissions.recompute(db.session, None)
    assert flags(s1, s2, s3, s4) == [
        (True, None, s2.id),
        (True, s1.id, None),   # a readmission that is itself an index stay
        (True, None, None),
        (False, None, None),
    ]
    assert (s2.admitted_on - s1.discharged_on).days == 27


@pytest.mark.parametrize(("readmitted", "expected"), [
    ("2026-03-12T18:00", True),    # day 0, later the same day
    ("2026-04-11T23:30", True),    # day 30, late in the evening (Paris)
    ("2026-04-12T00:10", False),   # day 31, just after midnight (Paris)
])
def test_the_window_is_0_to_30_local_days(patient, readmitted, expected):
    index = stay(patient, "2026-03-05T10:00", "2026-03-12T11:00")
    again = stay(patient, readmitted)
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, again) == ([(True, None, again.id), (False, index.id, None)] if expected
                                   else [(True, None, None), (False, None, None)])


def test_local_days_not_utc_days(patient):
    """Discharged 00:30 Paris on 1 July (22:30 UTC on 30 June); readmitted 23:30 Paris on
    31 July (21:30 UTC): 30 Paris days, 31 UTC days; readmitted."""
    index = stay(patient, "2026-06-20T10:00", "2026-07-01T00:30")
    again = stay(patient, "2026-07-31T23:30")
    assert index.discharged_at.date().isoformat() == "2026-06-30"
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, again) == [(True, None, again.id), (False, index.id, None)]


def test_local_days_across_the_clock_change(patient):
    """Discharged 23:30 Paris on 28 March 2026 (winter time), readmitted 00:30 Paris on 28 April
    (summer time): 31 days, not readmitted, although less than 31 times 24 hours apart."""
    index = stay(patient, "2026-03-20T10:00", "2026-03-28T23:30")
    again = stay(patient, "2026-04-28T00:30")
    assert again.admitted_at - index.discharged_at < timedelta(days=30, hours=2)
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, again) == [(True, None, None), (False, None, None)]


def test_an_admission_before_the_discharge_is_no_readmission(patient):
    """Same day, admitted (elsewhere) before the discharge: R.admitted_at >= S.discharged_at
    fails."""
    index = stay(patient, "2026-03-05T10:00", "2026-03-12T11:00")
    other = stay(patient, "2026-03-12T09:00", facility="CH de Lens")
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, other) == [(True, None, None), (False, None, None)]


def test_an_admission_at_the_instant_of_discharge_is_a_readmission(patient):
    index = stay(patient, "2026-03-05T10:00", "2026-03-12T11:00")
    again = stay(patient, "2026-03-12T11:00")
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, again) == [(True, None, again.id), (False, index.id, None)]


def test_planned_and_transfer_admissions_never_readmit(patient):
    index = stay(patient, "2026-03-05T10:00", "2026-03-12T11:00")
    planned = stay(patient, "2026-03-20T10:00", "2026-03-22T10:00", mode=PLANNED)
    transfer = stay(patient, "2026-03-25T10:00", "2026-03-27T10:00", mode=TRANSFER)
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, planned, transfer) == [
        (True, None, None), (True, None, None), (True, None, None)]


def test_a_transfer_chain(patient):
    """A is discharged to another hospital, B admitted there as a transfer and discharged home,
    C an emergency 10 days later: A is no index stay, B is, C readmits B (not A)."""
    a = stay(patient, "2026-03-01T10:00", "2026-03-05T14:00", destination=TO_TRANSFER)
    b = stay(patient, "2026-03-05T16:00", "2026-03-15T11:00", mode=TRANSFER,
             facility="CHU de Lille")
    c = stay(patient, "2026-03-25T08:00", "2026-03-28T12:00")
    readmissions.recompute(db.session, [patient.id])
    assert flags(a, b, c) == [(False, None, None), (True, None, c.id), (True, b.id, None)]


def test_a_longer_transfer_chain_ending_in_death(patient):
    a = stay(patient, "2026-03-01T10:00", "2026-03-05T14:00", destination=TO_TRANSFER)
    b = stay(patient, "2026-03-05T16:00", "2026-03-08T11:00", mode=TRANSFER,
             destination=TO_TRANSFER, facility="CHU de Lille")
    c = stay(patient, "2026-03-08T12:00", "2026-03-10T12:00", mode=TRANSFER, destination=DEATH,
             facility="SSR")
    readmissions.recompute(db.session, [patient.id])
    assert flags(a, b, c) == [(False, None, None)] * 3


def test_a_death_at_discharge_is_no_index_stay(patient):
    index = stay(patient, "2026-03-01T10:00", "2026-03-05T14:00", destination=DEATH)
    readmissions.recompute(db.session, [patient.id])
    assert flags(index) == [(False, None, None)]


def test_open_stays(patient):
    """An open stay is no index stay, but an open emergency admission is a readmission."""
    index = stay(patient, "2026-03-01T10:00", "2026-03-05T14:00")
    still_in = stay(patient, "2026-03-20T10:00")
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, still_in) == [(True, None, still_in.id), (False, index.id, None)]


def test_a_discharge_without_destination_is_an_index_stay(patient):
    index = stay(patient, "2026-03-01T10:00", "2026-03-05T14:00", destination=None)
    readmissions.recompute(db.session, [patient.id])
    assert flags(index) == [(True, None, None)]


def test_a_chain_of_readmissions(patient):
    """Each readmission is itself an index stay readmitted by the next."""
    a = stay(patient, "2026-01-01T10:00", "2026-01-05T10:00")
    b = stay(patient, "2026-01-20T10:00", "2026-01-25T10:00")
    c = stay(patient, "2026-02-10T10:00", "2026-02-12T10:00")
    d = stay(patient, "2026-05-01T10:00", "2026-05-03T10:00")
    readmissions.recompute(db.session, [patient.id])
    assert flags(a, b, c, d) == [(True, None, b.id), (True, a.id, c.id), (True, b.id, None),
                                 (True, None, None)]


def test_the_first_readmission_and_the_most_recent_index_stay(patient):
    """Two index stays (in two facilities) discharged before one emergency: it readmits the
    most recent; each index stay is readmitted by its first emergency admission after it."""
    a = stay(patient, "2026-01-01T10:00", "2026-01-05T10:00")
    b = stay(patient, "2026-01-04T10:00", "2026-01-08T10:00", mode=PLANNED, facility="Clinique")
    c = stay(patient, "2026-01-20T10:00", "2026-01-21T10:00")
    d = stay(patient, "2026-01-25T10:00", "2026-01-26T10:00")
    readmissions.recompute(db.session, [patient.id])
    assert flags(a, b, c, d) == [(True, None, c.id), (True, None, c.id), (True, b.id, d.id),
                                 (True, c.id, None)]


def test_cancelled_stays_count_nowhere(patient):
    index = stay(patient, "2026-03-01T10:00", "2026-03-05T14:00")
    cancelled_readmission = stay(patient, "2026-03-10T10:00", cancelled=True)
    cancelled_index = stay(patient, "2026-04-01T10:00", "2026-04-02T10:00", cancelled=True)
    later = stay(patient, "2026-04-10T10:00")
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, cancelled_readmission, cancelled_index, later) == [
        (True, None, None), (False, None, None), (False, None, None), (False, None, None)]


def test_recompute_after_a_discharge_added_later(patient):
    index = stay(patient, "2026-03-01T10:00")
    again = stay(patient, "2026-03-20T10:00")
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, again) == [(False, None, None), (False, None, None)]
    index.discharged_at = paris("2026-03-05T14:00")
    index.discharge_destination = HOME
    readmissions.recompute(db.session, [patient.id])
    assert index.discharged_on.isoformat() == "2026-03-05"
    assert flags(index, again) == [(True, None, again.id), (False, index.id, None)]


def test_recompute_after_an_admission_cancelled(patient):
    index = stay(patient, "2026-03-01T10:00", "2026-03-05T14:00")
    first = stay(patient, "2026-03-10T10:00", "2026-03-12T10:00")
    second = stay(patient, "2026-03-20T10:00")
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, first, second) == [
        (True, None, first.id), (True, index.id, second.id), (False, first.id, None)]
    first.cancelled_at = datetime.now(UTC)
    readmissions.recompute(db.session, [patient.id])
    assert flags(index, first, second) == [
        (True, None, second.id), (False, None, None), (False, index.id, None)]


def test_recompute_after_a_discharge_cancelled(patient):
    index = stay(patient, "2026-03-01T10:00", "2026-03-05T14:00")
    again = stay(patient, "2026-03-20T10:00")
    readmissions.recompute(db.session, [patient.id])
    index.discharged_at = None
    index.discharge_destination = None
    readmissions.recompute(db.session, [patient.id])
    assert index.discharged_on is None
    assert flags(index, again) == [(False, None, None), (False, None, None)]


def test_only_the_given_patients_are_recomputed(app):
    one, other = make_patient(), make_patient()
    a = stay(one, "2026-03-01T10:00", "2026-03-05T14:00")
    a2 = stay(one, "2026-03-20T10:00")
    b = stay(other, "2026-03-01T10:00", "2026-03-05T14:00")
    b2 = stay(other, "2026-03-20T10:00")
    readmissions.recompute(db.session, [one.id])
    assert flags(a, a2) == [(True, None, a2.id), (False, a.id, None)]
    assert flags(b, b2) == [(True, None, None), (False, None, None)]  # links not computed
    readmissions.recompute(db.session, [])
    assert flags(b2) == [(False, None, None)]


def test_the_database_keeps_the_index_flag_on_every_write(app):
    """`is_index_stay` is a generated column: right as soon as the stay is written, whoever
    writes it (a bulk insert or update that bypasses the ORM included), without a recompute."""
    patient = make_patient()
    index = stay(patient, "2026-03-01T10:00", "2026-03-05T14:00")
    assert flags(index) == [(True, None, None)]
    db.session.execute(Stay.__table__.update().where(Stay.id == index.id)
                       .values(discharge_destination=DEATH))
    assert flags(index) == [(False, None, None)]
    db.session.execute(Stay.__table__.update().where(Stay.id == index.id)
                       .values(discharge_destination=None))
    assert flags(index) == [(True, None, None)]  # a discharge without destination counts
    db.session.execute(Stay.__table__.update().where(Stay.id == index.id)
                       .values(cancelled_at=datetime(2026, 3, 6, tzinfo=UTC)))
    assert flags(index) == [(False, None, None)]
    with pytest.raises(exc.DBAPIError), db.session.begin_nested():  # never written by anyone
        db.session.execute(Stay.__table__.update().where(Stay.id == index.id)
                           .values(is_index_stay=True))


def test_another_patients_stay_never_readmits(app):
    one, other = make_patient(), make_patient()
    a = stay(one, "2026-03-01T10:00", "2026-03-05T14:00")
    b = stay(other, "2026-03-10T10:00")
    readmissions.recompute(db.session, None)
    assert flags(a, b) == [(True, None, None), (False, None, None)]


def test_recompute_issues_one_statement_whatever_the_number_of_stays(app, count_queries):
    patients = [make_patient() for _ in range(3)]
    for patient in patients:
        for month in range(1, 7):
            stay(patient, f"2026-{month:02d}-01T10:00", f"2026-{month:02d}-03T10:00")
    ids = [p.id for p in patients]
    db.session.commit()
    with count_queries() as queries:
        readmissions.recompute(db.session, ids)
    assert queries.count == 1, queries.report()
    assert db.session.scalars(select(Stay.is_index_stay).where(Stay.patient_id.in_(ids))).all() \
        == [True] * 18


def test_a_recompute_of_every_stay_leaves_the_session_settings_as_they_were(app):
    """On PostgreSQL the whole-table recompute runs without JIT and puts the setting back."""
    patient = make_patient()
    index = stay(patient, "2026-03-01T10:00", "2026-03-05T14:00")
    again = stay(patient, "2026-03-20T10:00")
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("SET LOCAL jit = on"))
    readmissions.recompute(db.session, None)
    assert flags(index, again) == [(True, None, again.id), (False, index.id, None)]
    if postgres:
        assert db.session.execute(text("SELECT current_setting('jit')")).scalar() == "on"


def test_the_flags_query_says_what_recompute_stores(app):
    one, other = make_patient(), make_patient()
    a = stay(one, "2026-03-01T10:00", "2026-03-05T14:00")
    b = stay(one, "2026-03-20T10:00")
    c = stay(other, "2026-03-01T10:00", "2026-03-05T14:00", destination=DEATH)
    expected = {row.stay_id: (bool(row.is_index_stay), row.readmitted_by_id,
                              row.readmission_of_id)
                for row in db.session.execute(readmissions.flags_query([one.id, other.id]))}
    assert expected == {a.id: (True, b.id, None), b.id: (False, None, a.id),
                        c.id: (False, None, None)}
