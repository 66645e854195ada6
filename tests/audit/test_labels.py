"""The audit, job and outbox pages show labels in the reader's language, not raw codes (#16)."""

from __future__ import annotations

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.jobs import runner
from coordinator.outbox import services as outbox

FR = {"Accept-Language": "fr"}


def test_the_audit_page_shows_actions_as_words(client, logged_in, admin):
    audit.record(db.session, Actor.system("test"), AuditAction.LOGIN_FAILED, "user", 1)
    db.session.commit()
    page = logged_in(admin).get("/admin/audit/", headers=FR).get_data(as_text=True)
    assert "Échec de connexion" in page
    assert "<td>login_failed</td>" not in page


def test_job_runs_and_outbox_messages_show_their_status_as_words(app, client, logged_in,
                                                                 admin):
    runner.run_manually(app, "mark_outcome_missing")
    outbox.add(db.session, key="t:1", kind="test", subject="Sujet", body="Corps",
               locale="fr", recipient=None)
    db.session.commit()
    client = logged_in(admin)
    jobs = client.get("/admin/jobs/", headers=FR).get_data(as_text=True)
    assert "Réussi" in jobs and "À la main" in jobs
    assert "<td>succeeded</td>" not in jobs and "<td>manual</td>" not in jobs
    messages = client.get("/admin/jobs/outbox", headers=FR).get_data(as_text=True)
    assert "En attente" in messages and "<td>pending" not in messages


def test_most_demo_patients_have_an_e_mail_so_their_reminders_have_a_recipient(session):
    """#16: "Reminders reach people": the demo patients had phones and no e-mail."""
    from sqlalchemy import func, select

    from coordinator import demo
    from coordinator.patients.models import Patient

    demo.seed_accounts(session, "pbkdf2:sha256:1000")
    demo.seed_registry(session, patients=200)
    total, with_email = session.execute(
        select(func.count(), func.count(Patient.email))).one()
    assert total and with_email / total > 0.8
