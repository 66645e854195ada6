"""The pages as a case manager uses them: the worklist's alerts and tasks, a task (record the
contact, book the visit, close it), the patient record; who may open them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from coordinator.core.time import PARIS, local_today
from coordinator.extensions import db
from coordinator.scheduling.models import Appointment
from coordinator.tasks.models import AlertAcknowledgement, Task, TaskKind, TaskStatus
from tests import factories
from tests.htmlform import form_fields
from tests.tasks.conftest import discharge, make_stay, recent, tasks_of

CONTACT, VISIT = TaskKind.DISCHARGE_CONTACT, TaskKind.DISCHARGE_VISIT


@pytest.fixture
def recent_stay(patient):
    """A discharge home two days ago, LACE 12: its contact task is due, or overdue."""
    day = local_today() - timedelta(days=2)
    return discharge(patient, day, lace=12, hour=8, today=local_today())


def test_the_worklist_shows_the_alerts_and_the_tasks_overdue_first_by_lace(
        client, logged_in, case_manager, patient):
    today = local_today()
    risky = factories.make_patient(case_manager_id=case_manager.id, birth_name="Risque")
    calm = factories.make_patient(case_manager_id=case_manager.id, birth_name="Calme")
    discharge(calm, today - timedelta(days=20), lace=4, today=today)
    discharge(risky, today - timedelta(days=20), lace=15, today=today)
    fresh = discharge(patient, today, lace=2, hour=0, today=today)
    admitted = make_stay(factories.make_patient(case_manager_id=case_manager.id,
                                                birth_name="Hospitalise"),
                         admitted=recent(1))
    db.session.commit()
    logged_in(case_manager)
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="alert-admitted"' in page and "HOSPITALISE" in page.upper()
    assert 'data-testid="alert-discharged_without_followup"' in page
    tasks = page[page.index('data-testid="tasks"'):]
    tasks = tasks[:tasks.index("</table>")]
    # Overdue (both of them, the highest LACE first), then the open ones by due date.
    order = [int(found) for found in re.findall(r'href="/patients/(\d+)"', tasks)]
    assert order[:4] == [risky.id, risky.id, calm.id, calm.id]
    assert order[4:] == [patient.id, patient.id]
    assert tasks.count('data-testid="overdue"') == 4
    assert f"/tasks/{tasks_of(fresh)[CONTACT].id}" in tasks
    assert admitted.id


def test_acknowledging_an_alert_hides_it(client, logged_in, case_manager, patient):
    stay = make_stay(patient, admitted=recent(1))
    db.session.commit()
    logged_in(case_manager)
    token = client.csrf_token("/")
    response = client.post("/tasks/alerts/acknowledge",
                           data={"csrf_token": token, "kind": "admitted", "stay_id": stay.id})
    assert response.status_code == 302
    assert 'data-testid="alert-admitted"' not in client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(AlertAcknowledgement.acknowledged_by_id)) == \
        case_manager.id
    assert client.post("/tasks/alerts/acknowledge",
                       data={"kind": "admitted", "stay_id": stay.id}).status_code == 400
    assert client.post("/tasks/alerts/acknowledge",
                       data={"csrf_token": token, "kind": "bogus",
                             "stay_id": stay.id}).status_code == 400


def test_an_alert_of_another_territory_cannot_be_acknowledged(client, logged_in,
                                                              other_case_manager, patient):
    stay = make_stay(patient, admitted=recent(1))
    db.session.commit()
    logged_in(other_case_manager)
    response = client.post("/tasks/alerts/acknowledge", data={
        "csrf_token": client.csrf_token("/"), "kind": "admitted", "stay_id": stay.id})
    assert response.status_code == 404
    assert db.session.scalars(select(AlertAcknowledgement)).all() == []


def test_record_the_contact_from_the_task(client, logged_in, case_manager, recent_stay):
    task = tasks_of(recent_stay)[CONTACT]
    logged_in(case_manager)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    data = form_fields(page, "contact-form")
    assert data["task_id"] == str(task.id) and data["occurred_at"]
    response = client.post(f"/tasks/patients/{task.patient_id}/contact",
                           data=data | {"outcome": "left_message", "note": "Rappeler"})
    assert response.status_code == 302 and response.location.endswith(f"/tasks/{task.id}")
    done = tasks_of(recent_stay)[CONTACT]
    assert (done.status, done.contact.outcome, done.contact.note) == \
        (TaskStatus.DONE, "left_message", "Rappeler")
    assert "Laissé un message" in client.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_a_contact_without_an_outcome_is_refused_with_its_message(client, logged_in,
                                                                   case_manager, patient):
    logged_in(case_manager)
    path = f"/tasks/patients/{patient.id}/contact"
    data = form_fields(client.get(path).get_data(as_text=True), "contact-form")
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "Choisissez le résultat." in response.get_data(as_text=True)
    future = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(path, data=data | {"outcome": "reached", "occurred_at": future})
    assert response.status_code == 400
    assert "pas dans le futur" in response.get_data(as_text=True)


def test_the_patient_record_shows_tasks_and_contacts(client, logged_in, case_manager, patient,
                                                     recent_stay):
    logged_in(case_manager)
    path = f"/tasks/patients/{patient.id}/contact"
    data = form_fields(client.get(path).get_data(as_text=True), "contact-form")
    assert client.post(path, data=data | {"outcome": "reached", "note": "Va bien"}) \
        .location.endswith(f"/patients/{patient.id}")
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert 'data-testid="patient-tasks"' in page and 'data-testid="new-contact"' in page
    assert "Va bien" in page


def test_book_the_visit_from_the_task_and_see_it_resolve_when_attended(
        client, logged_in, case_manager, patient, recent_stay):
    nurse = factories.make_provider("nurse")
    other = factories.make_provider("dietitian")
    factories.make_care_plan(patient, status="active",
                             team=[{"provider_id": nurse.id, "role": "IDE"}])
    task = tasks_of(recent_stay)[VISIT]
    logged_in(case_manager)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    book_url = re.search(r'href="([^"]*/scheduling/patients/[^"]*)" data-testid="book-visit"',
                         page).group(1).replace("&amp;", "&")
    form = client.get(book_url).get_data(as_text=True)
    chosen = re.search(r'<option selected value="(\d+)"|<option value="(\d+)" selected', form)
    # The care team first: the GP the plan put on it, then the nurse; the first is chosen.
    team_gp = patient.gp_id
    first_option = re.findall(r'<option (?:selected )?value="(\d+)"', form)[0]
    assert first_option == str(chosen.group(1) or chosen.group(2))
    assert f'value="{nurse.id}"' in form and f'value="{other.id}"' in form
    assert form.index(f'value="{nurse.id}"') < form.index(f'value="{other.id}"')
    assert team_gp is None or int(first_option) in (team_gp, nurse.id)
    starts = (datetime.now(PARIS) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = form_fields(form) | {"provider_id": nurse.id, "kind": "home_visit",
                                "starts_at": starts, "duration_minutes": "30",
                                "allow_non_working_day": "y"}  # whatever day the test runs
    response = client.post(book_url, data=data)
    assert response.status_code == 302 and response.location.endswith(f"/tasks/{task.id}")
    appointment = db.session.scalar(select(Appointment).where(
        Appointment.patient_id == patient.id))
    appointment.starts_at -= timedelta(minutes=90)  # time passes: the visit has started
    appointment.ends_at -= timedelta(minutes=90)
    db.session.commit()
    assert tasks_of(recent_stay)[VISIT].status == TaskStatus.OPEN
    outcome = client.post(f"/scheduling/appointments/{appointment.id}/outcome", data={
        "csrf_token": client.csrf_token(f"/scheduling/appointments/{appointment.id}"),
        "status": "attended", "version": appointment.version})
    assert outcome.status_code == 302
    visit = tasks_of(recent_stay)[VISIT]
    assert (visit.status, visit.appointment_id) == (TaskStatus.DONE, appointment.id)
    assert "Rendez-vous honoré" in client.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_close_a_task_by_hand(client, logged_in, case_manager, recent_stay):
    task = tasks_of(recent_stay)[VISIT]
    task_id, version = task.id, task.version
    logged_in(case_manager)
    token = client.csrf_token(f"/tasks/{task_id}")
    refused = client.post(f"/tasks/{task_id}/close", data={
        "csrf_token": token, "status": "done", "note": "", "version": version})
    assert refused.status_code == 400
    assert "Écrivez une note" in refused.get_data(as_text=True)
    assert client.post(f"/tasks/{task_id}/close", data={
        "csrf_token": token, "status": "done", "note": "Vu aux urgences de jour",
        "version": version}).status_code == 302
    assert tasks_of(recent_stay)[VISIT].note == "Vu aux urgences de jour"
    stale = client.post(f"/tasks/{task_id}/close", data={
        "csrf_token": token, "status": "cancelled", "note": "Encore", "version": version})
    assert stale.status_code == 302  # changed meanwhile: back to the task, nothing written
    assert tasks_of(recent_stay)[VISIT].status == TaskStatus.DONE


def test_the_task_list(client, logged_in, case_manager, admin, recent_stay):
    logged_in(case_manager)
    page = client.get("/tasks/").get_data(as_text=True)
    assert page.count("/tasks/") >= 2 and 'data-testid="task-list"' in page
    assert client.get("/tasks/?status=bogus").status_code == 400
    done = client.get("/tasks/?status=done").get_data(as_text=True)
    assert "Aucune tâche." in done


@pytest.mark.parametrize("role", ["gp", "council", "professional"])
def test_other_roles_see_no_task(client, logged_in, make_user, role, recent_stay):
    provider = factories.make_provider("gp") if role in ("gp", "professional") else None
    user = make_user(role=role, provider_id=provider.id if provider else None)
    task = tasks_of(recent_stay)[CONTACT]
    logged_in(user)
    for path in ("/tasks/", f"/tasks/{task.id}",
                 f"/tasks/patients/{task.patient_id}/contact"):
        assert client.get(path).status_code == 403, path


def test_another_territory_gets_404(client, logged_in, other_case_manager, recent_stay):
    task = tasks_of(recent_stay)[CONTACT]
    logged_in(other_case_manager)
    assert client.get(f"/tasks/{task.id}").status_code == 404
    assert client.get(f"/tasks/patients/{task.patient_id}/contact").status_code == 404
    assert client.get("/tasks/?assignee=all").get_data(as_text=True).count(
        f"/tasks/{task.id}") == 0


def test_an_administrator_sees_every_task(client, logged_in, admin, recent_stay):
    task = tasks_of(recent_stay)[CONTACT]
    logged_in(admin)
    assert client.get(f"/tasks/{task.id}").status_code == 200
    assert f"/tasks/{task.id}" in client.get("/tasks/").get_data(as_text=True)


def test_a_task_of_another_patient_is_not_taken_from_the_query(client, logged_in, case_manager,
                                                                patient, recent_stay):
    other = factories.make_patient(case_manager_id=case_manager.id)
    task = tasks_of(recent_stay)[CONTACT]
    logged_in(case_manager)
    page = client.get(f"/tasks/patients/{other.id}/contact?task={task.id}")
    assert form_fields(page.get_data(as_text=True), "contact-form")["task_id"] == ""
    assert client.get(f"/tasks/patients/{other.id}/contact?task=99999999999").status_code == 200


def test_the_task_page_is_audited(client, logged_in, case_manager, recent_stay):
    from coordinator.audit.models import AuditEntry

    task = tasks_of(recent_stay)[CONTACT]
    logged_in(case_manager)
    client.get(f"/tasks/{task.id}")
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "task", AuditEntry.action == "read")).one()
    assert (entry.entity_id, entry.patient_id) == (str(task.id), task.patient_id)
    assert db.session.get(Task, task.id) is not None
