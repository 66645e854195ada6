"""Issue #13's "done when", as a new user meets it: a hospital system sends A01 then A03 over
MLLP (a real listener process, real sockets) for a patient of a case manager's caseload; the
case manager sees the admission alert on the worklist, then the two tasks with their due dates,
books the visit from the task, and sees the task resolve when the visit is marked attended."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from coordinator.core.time import PARIS, local_today
from coordinator.core.workdays import add_working_days
from coordinator.extensions import db
from coordinator.hl7 import ack
from coordinator.scheduling.models import Appointment
from coordinator.stays.models import Stay
from coordinator.tasks.models import Task, TaskKind, TaskStatus
from tests import factories
from tests.conftest import Client
from tests.hl7.conftest import adt
from tests.hl7.test_mllp import _start, _stop
from tests.htmlform import form_fields

pytestmark = pytest.mark.live_database


@pytest.fixture
def listener(tmp_path):
    started = _start(tmp_path)
    started.app.test_client_class = Client
    yield started
    _stop(started)


@pytest.fixture
def context(listener):
    """The test client needs an application context; each read below starts a fresh session
    (the listener commits in another process)."""
    with listener.app.app_context():
        yield
        db.session.remove()


def _hl7_time(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y%m%d%H%M")


def test_a_case_manager_follows_an_admission_and_discharge_sent_over_mllp(listener, context):
    app = listener.app
    with app.app_context():
        case_manager = factories.make_user(role="case_manager", territory_code="DOUAISIS")
        patient = factories.make_patient(case_manager_id=case_manager.id, sex="F",
                                         birth_date=date(1950, 3, 2),
                                         nir=factories.make_nir("F", date(1950, 3, 2)))
        nurse = factories.make_provider("nurse")
        factories.make_care_plan(patient, status="active",
                                 team=[{"provider_id": nurse.id, "role": "IDE"}])
        email, patient_id, nir, nurse_id = (case_manager.email, patient.id, patient.nir,
                                            nurse.id)
        db.session.commit()
        db.session.remove()
    assert nir, "the patient needs an INS for the hospital to send"
    now = datetime.now(PARIS)
    admitted, discharged = now - timedelta(days=3), now - timedelta(hours=2)

    hospital = listener.connect()
    try:
        answer = hospital.send(adt("A01", ins=nir, local_id=None, control="FLOW-1",
                                   visit="FLOW-V1", admitted=_hl7_time(admitted),
                                   admission_type="U", diagnoses=(("I50.9", 1),)))
        assert ack.code_of(answer) == "AA"

        web = app.test_client()
        assert web.login(email).status_code == 302
        worklist = web.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert 'data-testid="alert-admitted"' in worklist  # the same day, from the feed

        answer = hospital.send(adt("A03", ins=nir, local_id=None, control="FLOW-2",
                                   visit="FLOW-V1", admitted=_hl7_time(admitted),
                                   discharged=_hl7_time(discharged), disposition="01"))
        assert ack.code_of(answer) == "AA"
    finally:
        hospital.close()

    with app.app_context():
        [stay] = db.session.scalars(select(Stay).where(Stay.patient_id == patient_id))
        assert stay.discharged_at is not None and stay.discharge_destination == "home"
        tasks = {task.kind: task for task in db.session.scalars(
            select(Task).where(Task.patient_id == patient_id))}
        discharge_day = stay.discharged_on
        lace = stay.lace_score
        visit_id = tasks[TaskKind.DISCHARGE_VISIT].id
        db.session.remove()
    assert set(tasks) == {TaskKind.DISCHARGE_CONTACT, TaskKind.DISCHARGE_VISIT}
    assert tasks[TaskKind.DISCHARGE_CONTACT].due_on == add_working_days(discharge_day, 2)
    assert tasks[TaskKind.DISCHARGE_VISIT].due_on == discharge_day + timedelta(
        days=7 if lace >= 10 else 14)

    db.session.remove()  # as each request does in production: what the listener committed
    worklist = web.get("/").get_data(as_text=True)
    assert 'data-testid="tasks"' in worklist and 'data-testid="alert-admitted"' not in worklist
    assert f"/tasks/{visit_id}" in worklist
    task_page = web.get(f"/tasks/{visit_id}").get_data(as_text=True)
    book_url = re.search(r'href="([^"]*/scheduling/patients/[^"]*)" data-testid="book-visit"',
                         task_page).group(1).replace("&amp;", "&")
    form = web.get(book_url).get_data(as_text=True)
    assert f'value="{nurse_id}"' in form  # the plan's care team is offered
    starts = (datetime.now(PARIS) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    booked = web.post(book_url, data=form_fields(form) | {
        "provider_id": nurse_id, "kind": "home_visit", "starts_at": starts,
        "duration_minutes": "30", "allow_non_working_day": "y"})  # whatever day it runs
    assert booked.status_code == 302
    db.session.remove()

    with app.app_context():
        appointment = db.session.scalar(select(Appointment).where(
            Appointment.patient_id == patient_id))
        appointment.starts_at -= timedelta(hours=1)  # time passes: the visit has started
        appointment.ends_at -= timedelta(hours=1)
        db.session.commit()
        appointment_id, version = appointment.id, appointment.version
        assert db.session.get(Task, visit_id).status == TaskStatus.OPEN
        db.session.remove()
    outcome = web.post(f"/scheduling/appointments/{appointment_id}/outcome", data={
        "csrf_token": web.csrf_token(f"/scheduling/appointments/{appointment_id}"),
        "status": "attended", "version": version})
    assert outcome.status_code == 302
    db.session.remove()
    with app.app_context():
        task = db.session.get(Task, visit_id)
        assert (task.status, task.appointment_id) == (TaskStatus.DONE, appointment_id)
        db.session.remove()
    assert local_today() >= discharge_day
