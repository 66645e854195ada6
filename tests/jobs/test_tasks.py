"""What each job does, and that running it twice changes nothing more."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.careplans import jobs as careplans_jobs
from coordinator.core.time import utcnow
from coordinator.jobs import registry
from coordinator.outbox.models import OutboxMessage
from coordinator.scheduling import jobs as scheduling_jobs
from coordinator.scheduling.models import Appointment
from tests import factories
from tests.jobs.conftest import make_appointment


def _messages(session, kind: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                .order_by(OutboxMessage.id)))


def test_slots_are_the_utc_hour_or_the_paris_day():
    hourly, daily = registry.get("mark_outcome_missing"), registry.get("appointment_reminders")
    late_evening = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # 00:30 on the 25th in Paris
    assert registry.slot_for(hourly, late_evening) == "2026-11-24T23"
    assert registry.slot_for(daily, late_evening) == "2026-11-25"
    assert registry.get("nothing") is None
    assert registry.names() == [job.name for job in registry.jobs()]


def test_outcome_missing_marks_ended_scheduled_appointments_once(session):
    now = utcnow()
    ended = make_appointment(starts_at=now - timedelta(hours=3))
    attended = make_appointment(starts_at=now - timedelta(hours=3), status="attended")
    running = make_appointment(starts_at=now - timedelta(minutes=10))  # ends in 20 min
    future = make_appointment(starts_at=now + timedelta(days=2))

    assert scheduling_jobs.mark_outcome_missing(session, now) == {"marked": 1}
    session.expire_all()
    assert session.get(Appointment, ended.id).outcome_missing_since == now
    for other in (attended, running, future):
        assert session.get(Appointment, other.id).outcome_missing_since is None
    version = session.get(Appointment, ended.id).version

    later = now + timedelta(hours=1)
    assert scheduling_jobs.mark_outcome_missing(session, later) == {"marked": 1}  # `running` ended
    session.expire_all()
    assert session.get(Appointment, ended.id).outcome_missing_since == now  # kept, not moved
    assert session.get(Appointment, ended.id).version == version
    assert scheduling_jobs.mark_outcome_missing(session, later) == {"marked": 0}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "appointment")
                            .order_by(AuditEntry.id)).first()
    assert entry.details == {"appointment_ids": [ended.id]}


def test_reminders_for_the_next_48_hours_in_french(session):
    now = utcnow()
    patient = factories.make_patient(birth_name="Lemaire", first_names="Odile",
                                     email="odile@example.test")
    provider = factories.make_provider(name="Dr Anne Caron", address="3 rue Haute",
                                       postal_code="59500", city="Douai")
    starts = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)  # 14:30 in Paris
    soon = make_appointment(patient, provider, starts_at=starts)
    no_email = make_appointment(starts_at=starts + timedelta(hours=20), place="Salle 2",
                                kind="home_visit")
    make_appointment(starts_at=starts + timedelta(hours=49))  # too far
    make_appointment(starts_at=starts + timedelta(hours=1), status="cancelled_patient")
    make_appointment(factories.make_patient(deceased_date=date(2026, 1, 1)),
                     starts_at=starts + timedelta(hours=2))
    now = starts - timedelta(hours=26)

    assert scheduling_jobs.appointment_reminders(session, now) == {"created": 2}
    first, second = _messages(session, "appointment_reminder")
    assert first.key == f"reminder:{soon.id}:{soon.starts_at.isoformat()}"
    assert (first.recipient, first.patient_id, first.status) == (
        "odile@example.test", patient.id, "pending")
    assert first.subject == "Rappel : rendez-vous le mardi 24 novembre 2026 à 14:30"
    assert "Bonjour Odile LEMAIRE" in first.body
    assert "- Consultation avec Dr Anne Caron ;" in first.body
    assert "3 rue Haute, 59500 Douai" in first.body
    assert second.recipient is None and second.patient_id == no_email.patient_id
    assert "- Visite à domicile avec " in second.body  # the label of scheduling/labels.py
    assert "lieu : Salle 2" in second.body
    with force_locale("en"):  # whoever runs the job: the patients' messages are in French
        assert "- Visite à domicile avec " in scheduling_jobs.reminder_text(no_email)[1]

    assert scheduling_jobs.appointment_reminders(session, now) == {"created": 0}
    assert len(_messages(session, "appointment_reminder")) == 2


def test_a_moved_appointment_is_reminded_again(session):
    now = utcnow()
    appointment = make_appointment(starts_at=now + timedelta(hours=5))
    assert scheduling_jobs.appointment_reminders(session, now)["created"] == 1
    appointment.starts_at += timedelta(hours=3)
    appointment.ends_at += timedelta(hours=3)
    session.commit()
    assert scheduling_jobs.appointment_reminders(session, now)["created"] == 1
    assert scheduling_jobs.appointment_reminders(session, now)["created"] == 0


def test_review_notices_once_a_day_per_case_manager(session, make_user):
    manager = make_user(role="case_manager", email="cm@example.test", locale="en")
    colleague = make_user(role="case_manager")  # nothing overdue
    make_user(role="case_manager", is_active=False)
    late = factories.make_patient(birth_name="Tardif", case_manager_id=manager.id)
    also_late = factories.make_patient(case_manager_id=manager.id)
    factories.make_care_plan(late, user=manager, status="active")
    factories.make_care_plan(also_late, user=manager, status="active")
    factories.make_care_plan(factories.make_patient(case_manager_id=manager.id),
                             user=manager)  # a draft is not reviewed
    factories.make_care_plan(factories.make_patient(case_manager_id=colleague.id),
                             user=colleague, status="active",
                             review_date=date(date.today().year + 3, 1, 1))
    now = datetime.combine(date(date.today().year + 1, 3, 1), datetime.min.time(), tzinfo=UTC)

    counts = careplans_jobs.review_overdue_plans(session, now)
    assert counts == {"notices": 1, "plans": 2}
    (notice,) = _messages(session, "review_overdue")
    assert notice.key == f"review:{manager.id}:{now.date().isoformat()}"
    assert (notice.user_id, notice.recipient) == (manager.id, "cm@example.test")
    assert notice.subject == "2 plans to review"
    assert "TARDIF" in notice.body

    assert careplans_jobs.review_overdue_plans(session, now)["notices"] == 0
    assert careplans_jobs.review_overdue_plans(session, now + timedelta(days=1))["notices"] == 1
