"""The booking rules a case manager relies on (scheduling.services)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from coordinator.core.errors import ConflictError, ValidationError
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.metrics.services import no_show_rates
from coordinator.scheduling import rules, services, worklists
from coordinator.scheduling.models import MAX_MINUTES, Appointment
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
                                       overlap_reason=extra.pop("overlap_reason", None),
                                       allow_non_working_day=True)  # tested on its own


def happened(actor, patient, provider, starts_at, **extra):
    """A past appointment, booked back when it was to come."""
    return factories.make_appointment(patient, provider, starts_at, actor=actor,
                                      overlap_reason=None, **extra)


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
    appointment = happened(actor, patient, nurse, datetime.now() - timedelta(days=1))
    services.record_outcome(db.session, actor, appointment, "attended")
    assert appointment.outcome_recorded_by == actor.label
    with pytest.raises(services.TransitionRefused) as caught:
        services.record_outcome(db.session, actor, appointment, "no_show")
    assert caught.value.current == "attended" and caught.value.allowed == []
    assert caught.value.wanted == "no_show"
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
    first, second, third = (happened(actor, patient, nurse, m) for m in moments)
    services.record_outcome(db.session, actor, first, "attended")
    services.record_outcome(db.session, actor, second, "no_show")
    services.record_outcome(db.session, actor, third, "no_show")
    rows = db.session.execute(worklists.no_shows(case_manager, today)).all()
    # each no-show with the count as of it (the second of the run, then the first)
    assert [(a.id, streak) for a, streak in rows] == [(third.id, 2), (second.id, 1)]
    rates = no_show_rates(db.session, "patient", today - timedelta(days=60), today)
    assert rates[patient.id].rate == pytest.approx(2 / 3)
    new = services.reschedule_no_show(db.session, actor, third,
                                      datetime.combine(today + timedelta(days=3),
                                                       datetime.min.time()).replace(hour=11),
                                      allow_non_working_day=True)
    assert third.rescheduled_to_id == new.id and third.status == "no_show"


def test_outcome_missing_lists_past_scheduled_appointments(actor, case_manager, patient, nurse):
    past = happened(actor, patient, nurse, datetime.now() - timedelta(days=2))
    book(actor, patient, nurse, datetime.now() + timedelta(days=2))
    missing = db.session.scalars(worklists.outcome_missing(case_manager,
                                                           datetime.now(UTC))).all()
    assert missing == [past]


def test_an_appointment_with_its_outcome_keeps_its_patient_provider_and_time():
    """What the appointments import refuses to rewrite (rules.rewritten_history): the first of
    patient, provider and time that a row would change, once the outcome is recorded."""
    start = datetime(2027, 1, 15, 8, tzinfo=UTC)
    current = {"patient_id": 1, "provider_id": 2, "starts_at": start}
    later = start + timedelta(hours=1)
    assert rules.rewritten_history("scheduled", current, {"patient_id": 9, "starts_at": later}) \
        is None
    assert rules.rewritten_history("attended", current, dict(current)) is None
    assert rules.rewritten_history("attended", current, {"patient_id": None}) is None  # kept
    assert rules.rewritten_history("attended", current, {"patient_id": 9}) == "patient_id"
    assert rules.rewritten_history("no_show", current,
                                   {"provider_id": 3, "starts_at": later}) == "provider_id"
    assert rules.rewritten_history("cancelled", current, {"provider_id": 2, "starts_at": later}) \
        == "starts_at"


def test_back_to_back_appointments_do_not_overlap(actor, patient, nurse):
    book(actor, patient, nurse, datetime(2027, 5, 3, 9, 0))  # 09:00-09:30
    other = factories.make_patient()
    before = book(actor, other, nurse, datetime(2027, 5, 3, 8, 30))  # ends as it starts
    after = book(actor, other, nurse, datetime(2027, 5, 3, 9, 30))  # starts as it ends
    assert before.overlap_reason is None and after.overlap_reason is None


def test_back_to_back_appointments_of_one_series_do_not_overlap(actor, patient, nurse):
    series = services.create_appointments(db.session, actor, [
        {"patient_id": patient.id, "provider_id": nurse.id, "starts_at": start}
        for start in (datetime(2027, 5, 4, 9, 30), datetime(2027, 5, 4, 9, 0),
                      datetime(2027, 5, 4, 10, 0))])
    assert len(series) == 3


def test_an_appointment_is_linked_to_an_action_of_the_patients_own_plan(actor, patient, nurse):
    plan = factories.make_care_plan(patient)
    action_id = plan.goals[0].actions[0].id
    linked = book(actor, patient, nurse, datetime(2027, 5, 3, 9, 0), action_id=action_id)
    assert linked.action_id == action_id
    assert "action_id" in errors(lambda: book(actor, patient, nurse, datetime(2027, 5, 4, 9),
                                              action_id=999999))


def test_a_days_outcomes_are_recorded_all_or_nothing(actor, patient, nurse):
    yesterday = datetime.now() - timedelta(days=1)
    first = happened(actor, patient, nurse, yesterday)
    done = happened(actor, patient, nurse, yesterday + timedelta(hours=1))
    services.record_outcome(db.session, actor, done, "attended")
    refused = errors(lambda: services.record_outcomes(
        db.session, actor, {first.id: "attended", done.id: "no_show", 999999: "attended"}))
    assert sorted(refused) == sorted([f"outcome-{done.id}", "outcome-999999"])
    assert first.status == "scheduled"
    assert services.record_outcomes(db.session, actor, {first.id: "no_show"}) == 1
    assert first.status == "no_show"


def test_a_move_keeps_the_round_duration_and_provider_unless_changed(actor, patient, nurse):
    [appointment] = services.create_appointments(
        db.session, actor, [{"patient_id": patient.id, "provider_id": nurse.id,
                             "starts_at": datetime(2027, 5, 3, 9, 0), "duration_minutes": 45}],
        round_label="Bilan annuel")
    moved = services.reschedule(db.session, actor, appointment, datetime(2027, 5, 10, 9, 0),
                                expected_version=appointment.version)
    assert (moved.starts_at, moved.duration_minutes, moved.provider_id, moved.round_id) == (
        datetime(2027, 5, 10, 7, 0, tzinfo=UTC), 45, nurse.id, appointment.round_id)
    assert moved.round_id is not None
    assert (moved.status, moved.created_by, moved.overlap_reason) == (
        "scheduled", actor.label, None)
    other_nurse = factories.make_provider("nurse")
    again = services.reschedule(db.session, actor, moved, datetime(2027, 5, 18, 9, 0),
                                duration_minutes=60, provider_id=other_nurse.id)
    assert (again.duration_minutes, again.provider_id) == (60, other_nurse.id)


def test_a_move_checks_the_version_the_lifecycle_and_the_overlaps(actor, patient, nurse):
    appointment = book(actor, patient, nurse, datetime(2027, 5, 3, 9, 0))
    with pytest.raises(ConflictError) as conflict:
        services.reschedule(db.session, actor, appointment, datetime(2027, 5, 4, 9),
                            expected_version=appointment.version - 1)
    assert conflict.value.current_version == appointment.version
    busy = factories.make_patient()
    book(actor, busy, nurse, datetime(2027, 5, 4, 9, 0))
    with pytest.raises(services.OverlapWarning):
        services.reschedule(db.session, actor, appointment, datetime(2027, 5, 4, 9, 15))
    assert appointment.status == "scheduled"
    moved = services.reschedule(db.session, actor, appointment, datetime(2027, 5, 4, 9, 15),
                                overlap_reason=" Visite commune ")
    assert moved.overlap_reason == "Visite commune"
    with pytest.raises(services.TransitionRefused) as caught:
        services.reschedule(db.session, actor, appointment, datetime(2027, 5, 5, 9),
                            cancelled_by="provider")  # moved already
    assert (caught.value.current, caught.value.wanted) == ("cancelled_patient",
                                                           "cancelled_provider")


def test_a_no_show_is_booked_again_at_the_new_time_in_its_round(actor, patient, nurse):
    yesterday = datetime.now().replace(microsecond=0) - timedelta(days=1)
    missed = happened(actor, patient, nurse, yesterday, round_label="Suivi")
    with pytest.raises(services.TransitionRefused) as caught:
        services.reschedule_no_show(db.session, actor, missed, yesterday + timedelta(days=3))
    assert (caught.value.current, caught.value.wanted) == ("scheduled", "rescheduled")
    services.record_outcome(db.session, actor, missed, "no_show")
    busy = factories.make_patient()
    when = datetime(2027, 6, 1, 10, 0)
    book(actor, busy, nurse, when)
    with pytest.raises(services.OverlapWarning):
        services.reschedule_no_show(db.session, actor, missed, when)
    again = services.reschedule_no_show(db.session, actor, missed, when,
                                        overlap_reason="Visite commune")
    assert again.starts_at == datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    assert (again.round_id, again.overlap_reason) == (missed.round_id, "Visite commune")
    assert missed.round_id is not None


def test_an_outcome_too_early_says_why_and_a_reason_is_for_a_no_show_only(actor, patient,
                                                                          nurse):
    coming = book(actor, patient, nurse, datetime.now() + timedelta(days=3))
    refused = errors(lambda: services.record_outcome(db.session, actor, coming, "no_show"))
    assert refused["status"] == [str(rules.too_early_problem(
        "no_show", coming.starts_at, coming.starts_at - timedelta(hours=1)))]
    past = happened(actor, patient, nurse, datetime.now() - timedelta(days=1))
    services.record_outcome(db.session, actor, past, "attended", no_show_reason="transport")
    assert (past.status, past.no_show_reason) == ("attended", None)


def test_the_rules_of_one_appointment_at_their_bounds():
    assert rules.duration_problem(1) is None
    assert rules.duration_problem(MAX_MINUTES) is None
    for bad in (0, MAX_MINUTES + 1, 30.5, True, "30"):
        assert rules.duration_problem(bad) is not None, bad
    died = date(2026, 1, 10)
    # The day of death is the Paris day: 23:30 in Paris is still that day, 00:30 is not.
    assert rules.after_death_problem(died, datetime(2026, 1, 10, 22, 30, tzinfo=UTC)) is None
    assert rules.after_death_problem(died, datetime(2026, 1, 10, 23, 30, tzinfo=UTC))
    now = datetime(2027, 5, 3, 9, tzinfo=UTC)
    assert rules.too_early_problem("attended", now, now) is None  # it has started
    assert rules.too_early_problem("attended", now + timedelta(minutes=1), now)
    assert rules.too_early_problem("cancelled_patient", now + timedelta(days=1), now) is None


def test_an_appointment_ending_now_does_not_miss_its_outcome_yet(actor, patient, nurse):
    appointment = book(actor, patient, nurse, datetime(2027, 5, 3, 9))

    def missing(now) -> bool:
        return db.session.scalar(select(Appointment.id).where(
            rules.outcome_missing(now), Appointment.id == appointment.id)) is not None

    assert not missing(appointment.ends_at)
    assert missing(appointment.ends_at + timedelta(seconds=1))
