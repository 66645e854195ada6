"""The daily job "discharged without a follow-up": one notice per case manager and day into the
outbox, written once."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.jobs import registry
from coordinator.outbox.models import OutboxMessage
from coordinator.tasks import jobs, services
from coordinator.tasks.models import ContactOutcome
from tests import factories
from tests.tasks.conftest import make_stay, recent


def _notices() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == jobs.KIND)
                                   .order_by(OutboxMessage.id)))


def test_one_notice_per_case_manager_and_day_written_once(case_manager, patient, actor):
    make_stay(patient, admitted=recent(5, 9), discharged=recent(2), facility="CH de Douai")
    second = factories.make_patient(case_manager_id=case_manager.id, birth_name="Lefebvre")
    make_stay(second, admitted=recent(4, 9), discharged=recent(1), facility="CH de Lens")
    colleague = factories.make_user(role="case_manager", locale="en")
    theirs = factories.make_patient(case_manager_id=colleague.id)
    make_stay(theirs, admitted=recent(4, 9), discharged=recent(3))
    followed = factories.make_patient(case_manager_id=colleague.id)
    make_stay(followed, admitted=recent(4, 9), discharged=recent(3))
    services.record_contact(db.session, actor, followed, {
        "occurred_at": recent(1), "channel": "phone", "outcome": ContactOutcome.REACHED})
    db.session.commit()

    now = utcnow()
    assert jobs.discharged_without_followup(db.session, now) == {"notices": 2, "patients": 3}
    db.session.commit()
    mine, colleagues = _notices()
    assert (mine.user_id, mine.recipient) == (case_manager.id, case_manager.email)
    assert mine.subject == "2 patients sortis sans suivi"
    assert "LEFEBVRE" in mine.body.upper() and "CH de Lens" in mine.body
    assert colleagues.subject == "1 patient discharged without a follow-up"
    assert followed.birth_name not in colleagues.body
    assert (mine.locale, colleagues.locale) == ("fr", "en")  # each in its recipient's language

    assert jobs.discharged_without_followup(db.session, now + timedelta(hours=2)) == \
        {"notices": 0, "patients": 0}  # the same Paris day: nothing more
    assert len(_notices()) == 2
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "outbox_message")).all()
    assert len(entries) == 2


def test_a_notice_is_in_its_recipients_language_whoever_runs_the_job(case_manager, patient):
    reads_english = factories.make_user(role="case_manager", locale="en")
    theirs = factories.make_patient(case_manager_id=reads_english.id)
    make_stay(theirs, admitted=recent(4, 9), discharged=recent(3), facility="CH de Lens")
    make_stay(patient, admitted=recent(5, 9), discharged=recent(2), facility="CH de Douai")
    db.session.commit()
    with force_locale("en"):  # an English-speaking administrator runs the job by hand
        jobs.discharged_without_followup(db.session, utcnow())
    french, english = _notices()
    assert french.user_id == case_manager.id and case_manager.locale is None  # the default
    assert (french.locale, french.subject) == ("fr", "1 patient sorti sans suivi")
    assert "sorti(e) le" in french.body
    assert (english.locale, english.subject) == (
        "en", "1 patient discharged without a follow-up")
    assert "discharged on" in english.body and "CH de Lens" in english.body


def test_nothing_to_say_writes_nothing(case_manager, patient):
    make_stay(patient, admitted=recent(12, 9), discharged=recent(10))  # more than 7 days
    db.session.commit()
    assert jobs.discharged_without_followup(db.session, utcnow()) == \
        {"notices": 0, "patients": 0}


def test_the_job_is_listed_daily():
    job = registry.get("discharged_without_followup")
    assert job is not None and job.trigger == "daily"
    assert job.function is jobs.discharged_without_followup
