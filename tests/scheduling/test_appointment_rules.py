"""The booking rules a case manager relies on (scheduling.services)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from coordinator.core.errors import ValidationError
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.metrics.services import no_show_rates
from coordinator.scheduling import services, worklists
from coordinator.scheduling.models import Appointment
from tests import factories


@pytest.fixture
def actor(case_manager):
    return factories.case_plan_actor(case_manager)


@pytest.fixture
def nurse():
    return factories.make_provider("nurse")


@pytest.fixture
def patient(case_manager):
    return factories.make_patient(case_manager_id=case_manager.id)


def book(actor, patient, provider, starts_at, **extra):
    data = {"patient_id": patient.id, "provider_id": provider.id, "starts_at": starts_at,
            "duration_minutes": 30} | extra
    return services.create_appointment(db.session, actor, data,
                                       overlap_reason=extra.pop("overlap_reason", None))


def errors(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.messages()


def test_a_naive_time_is_paris_time_in_summer_and_winter(actor, patient, nurse):
    summer = book(actor, patient, nurse, datetime(2027, 7, 1, 9, 0))
    winter = book(actor, patient, nurse, datetime(2027, 1, 15, 9, 0))
    assert summer.starts_at == datetime(2027, 7, 1, 7, 0, tzinfo=UTC)
    assert winter.starts_at == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def test_across_the_daylight_saving_change(actor, patient, nurse):
    gone = errors(lambda: book(actor, patient, nurse, datetime(2027, 3, 28, 2, 30)))
    assert "starts_at" in gone  # 02:30 does not exist that night in Paris
    repeated = book(actor, patient, nurse, datetime(2027, 10, 31, 2, 30))
    assert repeated.starts_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # first one


@pytest.mark.parametrize("extra, field", [
    ({"ends_at": datetime(2027, 5, 3, 8, 0)}, "ends_at"),
    ({"duration_minutes": 0}, "duration_minutes"),
    ({"duration_minutes": 12 * 60 + 1}, "duration_minutes"),
    ({"kind": "dinner"}, "kind"),
])
def test_bad_times_and_kinds_are_refused(actor, patient, nurse, extra, field):
    assert field in errors(lambda: book(actor, patient, nurse, datetime(2027, 5, 3, 9, 0),
                                        **extra))
    assert db.session.query(Appointment).count() == 0


def test_unknown_or_inactive_provider_is_refused(actor, patient):
    inactive = factories.make_provider("nurse", is_active=False)
    assert "provider_id" in errors(lambda: book(actor, patient, inactive,
                                                datetime(2027, 5, 3, 9)))
    data = {"patient_id": patient.id, "provider_id": 999999,
            "starts_at": datetime(2027, 5, 3, 9)}
    assert "provider_id" in errors(lambda: services.create_appointment(db.session, actor, data))


def test_no_appointment_after_the_patient_died(actor, nurse):
    patient = factories.make_patient(deceased_date=date(2026, 1, 10))
    assert "starts_at" in errors(lambda: book(actor, patient, nurse, datetime(2026, 1, 11, 9)))


def test_a_double_booking_needs_a_reason(actor, patient, nurse):
    book(actor, patient, nurse, datetime(2027, 5, 3, 9, 0))
    other = factories.make_patient()
    with pytest.raises(services.OverlapWarning) as caught:
        book(actor, other, nurse, datetime(2027, 5, 3, 9, 15))  # the nurse is busy
    assert len(caught.value.overlaps) == 1
    kept = book(actor, other, nurse, datetime(2027, 5, 3, 9, 15),
                overlap_reason="Visite commune")
    assert kept.overlap_reason == "Visite commune"


def test_the_outcome_follows_the_lifecycle(actor, patient, nurse):
    coming = book(actor, patient, nurse, datetime.now() + timedelta(days=3))
    assert "status" in errors(lambda: services.record_outcome(db.session, actor, coming,
                                                              "attended"))  # not yet
    services.record_outcome(db.session, actor, coming, "cancelled_patient")  # that, yes
    appointment = book(actor, patient, nurse, datetime.now() - timedelta(days=1))
    services.record_outcome(db.session, actor, appointment, "attended")
    assert appointment.outcome_recorded_by == actor.label
    with pytest.raises(services.TransitionRefused) as caught:
        services.record_outcome(db.session, actor, appointment, "no_show")
    assert caught.value.current == "attended" and caught.value.allowed == []
    assert appointment.status == "attended"


def test_reschedule_cancels_and_links(actor, patient, nurse):
    appointment = book(actor, patient, nurse, datetime(2027, 5, 3, 9, 0))
    new = services.reschedule(db.session, actor, appointment, datetime(2027, 5, 3, 9, 15),
                              cancelled_by="provider")  # overlapping itself is fine
    assert appointment.status == "cancelled_provider"
    assert appointment.rescheduled_to_id == new.id and new.status == "scheduled"


def test_no_shows_in_a_row_are_counted_and_flagged(actor, case_manager, patient, nurse):
    today = local_today()
    moments = [datetime.combine(today - timedelta(days=d), datetime.min.time()).replace(hour=10)
               for d in (30, 20, 10)]
    first, second, third = (book(actor, patient, nurse, m) for m in moments)
    services.record_outcome(db.session, actor, first, "attended")
    services.record_outcome(db.session, actor, second, "no_show")
    services.record_outcome(db.session, actor, third, "no_show")
    rows = db.session.execute(worklists.no_shows(case_manager, today)).all()
    assert [(a.id, streak) for a, streak in rows] == [(third.id, 2), (second.id, 2)]
    rates = no_show_rates(db.session, "patient", today - timedelta(days=60), today)
    assert rates[patient.id].rate == pytest.approx(2 / 3)
    new = services.reschedule_no_show(db.session, actor, third,
                                      datetime.combine(today + timedelta(days=3),
                                                       datetime.min.time()).replace(hour=11))
    assert third.rescheduled_to_id == new.id and third.status == "no_show"


def test_outcome_missing_lists_past_scheduled_appointments(actor, case_manager, patient, nurse):
    past = book(actor, patient, nurse, datetime.now() - timedelta(days=2))
    book(actor, patient, nurse, datetime.now() + timedelta(days=2))
    missing = db.session.scalars(worklists.outcome_missing(case_manager,
                                                           datetime.now(UTC))).all()
    assert missing == [past]
