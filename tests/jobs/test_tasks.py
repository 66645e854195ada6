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
    assert (first.locale, second.locale) == ("fr", "fr")  # the patients' language (default)

    assert scheduling_jobs.appointment_reminders(session, now) == {"created": 0}
    assert len(_messages(session, "appointment_reminder")) == 2


def test_a_reminder_is_in_the_patients_language_not_the_language_running_the_job(session):
    starts = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)  # 14:30 in Paris
    now = starts - timedelta(hours=26)
    reads_english = factories.make_patient(birth_name="Walker", first_names="Ann",
                                           language="en", email="ann@example.test")
    provider = factories.make_provider(name="Dr Anne Caron", address="3 rue Haute",
                                       postal_code="59500", city="Douai")
    make_appointment(reads_english, provider, starts_at=starts, kind="home_visit")
    with force_locale("fr"):  # a French request or the instance's default (French)
        assert scheduling_jobs.appointment_reminders(session, now) == {"created": 1}
    (english,) = _messages(session, "appointment_reminder")
    assert english.locale == "en"
    assert english.subject == "Reminder: appointment on Tuesday 24 November 2026 at 14:30"
    assert english.body.startswith("Hello Ann WALKER,\n")
    assert "- on Tuesday 24 November 2026 at 14:30 (Paris time), 30 min long;" in english.body
    assert "- Home visit with Dr Anne Caron;" in english.body
    assert "- place: 3 rue Haute, 59500 Douai." in english.body
    assert "Rappel" not in english.body and "Visite" not in english.body

    reads_french = factories.make_patient(birth_name="Lemaire", first_names="Odile",
                                          language="fr")
    make_appointment(reads_french, factories.make_provider(address=None, postal_code=None,
                                                           city=None),
                     starts_at=starts + timedelta(hours=1), kind="home_visit")
    with force_locale("en"):  # an English-speaking administrator runs it, say
        assert scheduling_jobs.appointment_reminders(session, now) == {"created": 1}
    french = _messages(session, "appointment_reminder")[1]
    assert french.locale == "fr"
    assert french.subject == "Rappel : rendez-vous le mardi 24 novembre 2026 à 15:30"
    assert "Bonjour Odile LEMAIRE," in french.body
    assert "- Visite à domicile avec " in french.body
    assert "- lieu : à préciser avec le professionnel." in french.body


def test_a_patient_language_the_instance_does_not_offer_reads_the_default(session, app):
    patient = factories.make_patient(language="de")  # written by hand in the database, say
    make_appointment(patient, starts_at=utcnow() + timedelta(hours=3))
    with force_locale("en"):
        scheduling_jobs.appointment_reminders(session, utcnow())
    (message,) = _messages(session, "appointment_reminder")
    assert message.locale == app.config["BABEL_DEFAULT_LOCALE"] == "fr"
    assert message.subject.startswith("Rappel : rendez-vous le ")


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
    assert (notice.subject, notice.locale) == ("2 plans to review", "en")  # the manager's
    assert "TARDIF" in notice.body

    assert careplans_jobs.review_overdue_plans(session, now)["notices"] == 0
    assert careplans_jobs.review_overdue_plans(session, now + timedelta(days=1))["notices"] == 1
