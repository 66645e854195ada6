"""`flask jobs list | run NAME`, and the administrators' pages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.time import utcnow
from coordinator.jobs import registry, runner
from coordinator.jobs.models import JobRun
from coordinator.outbox.models import OutboxMessage
from tests import factories
from tests.jobs.conftest import make_appointment


def test_jobs_list_shows_every_job_and_its_last_run(app, cli, session):
    runner.run(app, "mark_outcome_missing", "2026-11-24T13")
    result = cli.invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    for job in registry.jobs():
        assert job.name in result.output
    assert "succeeded (marked 0)" in result.output
    assert "never run" in result.output


def test_jobs_run_runs_by_hand_and_prints_the_counts(cli, session):
    make_appointment(starts_at=utcnow() + timedelta(hours=3))
    result = cli.invoke(args=["jobs", "run", "appointment_reminders"])
    assert result.exit_code == 0, result.output
    assert "appointment_reminders: created 1 (" in result.output
    again = cli.invoke(args=["jobs", "run", "appointment_reminders"])
    assert "created 0 (" in again.output  # a run by hand runs, and changes nothing more
    runs = session.scalars(select(JobRun).where(JobRun.name == "appointment_reminders")).all()
    assert [r.trigger for r in runs] == ["manual", "manual"]


def test_jobs_run_refuses_an_unknown_name(cli):
    result = cli.invoke(args=["jobs", "run", "send_everything"])
    assert result.exit_code == 1
    assert "no job named 'send_everything'" in result.output
    assert "mark_outcome_missing, appointment_reminders, " in result.output
    assert "deliver_outbox" in result.output


def test_pages_are_for_administrators_only(client, logged_in, case_manager):
    logged_in(case_manager)
    assert client.get("/admin/jobs/").status_code == 403
    assert client.get("/admin/jobs/outbox").status_code == 403
    token = client.csrf_token("/")
    response = client.post("/admin/jobs/mark_outcome_missing/run", data={"csrf_token": token})
    assert response.status_code == 403


def test_jobs_page_lists_jobs_and_runs(app, client, logged_in, admin, session):
    runner.run(app, "mark_outcome_missing", "2026-11-24T13")
    logged_in(admin)
    html = client.get("/admin/jobs/").get_data(as_text=True)
    for job in registry.jobs():
        assert job.name in html
    assert "2026-11-24T13" in html and "marked 0" in html
    assert "<caption" in html
    assert 'href="/admin/jobs/"' in client.get("/").get_data(as_text=True)  # menu link


def test_run_now_from_the_page(client, logged_in, admin, session):
    make_appointment(starts_at=utcnow() + timedelta(hours=3))
    logged_in(admin)
    token = client.csrf_token("/admin/jobs/")
    response = client.post("/admin/jobs/appointment_reminders/run",
                           data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    assert "created 1" in response.get_data(as_text=True)
    assert session.scalar(select(JobRun.trigger).where(
        JobRun.name == "appointment_reminders")) == "manual"
    assert client.post("/admin/jobs/nothing/run", data={"csrf_token": token}).status_code == 404
    assert client.post("/admin/jobs/appointment_reminders/run").status_code == 400  # no CSRF
    assert session.scalars(select(JobRun.trigger).where(
        JobRun.name == "appointment_reminders")).all() == ["manual"]  # it did not run again


def test_a_job_run_from_the_page_writes_each_reminder_in_its_patients_language(
        app, client, logged_in, make_user, session):
    """Issue #16: not in the language of the administrator who runs the job."""
    reads_french = factories.make_patient(birth_name="Lemaire")
    reads_english = factories.make_patient(birth_name="Walker", language="en")
    for patient in (reads_french, reads_english):
        make_appointment(patient, starts_at=utcnow() + timedelta(hours=3))
    logged_in(make_user(role="admin", locale="en"))
    client.post("/admin/jobs/appointment_reminders/run",
                data={"csrf_token": client.csrf_token("/admin/jobs/")})
    messages = {message.patient_id: message for message in session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "appointment_reminder"))}
    assert messages[reads_french.id].subject.startswith("Rappel : rendez-vous le ")
    assert messages[reads_english.id].subject.startswith("Reminder: appointment on ")
    html = client.get("/admin/jobs/outbox").get_data(as_text=True)  # an English page
    assert html.count('<td data-testid="message-language">Français</td>') == 1
    assert html.count('<td data-testid="message-language">English</td>') == 1
    assert '<td lang="fr">' in html and '<td lang="en">' in html


def test_outbox_page_shows_messages_and_is_audited(app, client, logged_in, admin, session):
    patient = factories.make_patient(birth_name="Visible")
    make_appointment(patient, starts_at=utcnow() + timedelta(hours=3))
    runner.run_manually(app, "appointment_reminders")
    logged_in(admin)
    html = client.get("/admin/jobs/outbox").get_data(as_text=True)
    assert "Rappel : rendez-vous le" in html and "Bonjour" in html and "VISIBLE" in html
    assert '<td data-testid="message-language">Français</td>' in html
    assert f"/patients/{patient.id}" in html
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "outbox")).one()
    assert entry.action == "read" and entry.actor_user_id == admin.id
    assert session.scalar(select(OutboxMessage.status)) == "pending"
