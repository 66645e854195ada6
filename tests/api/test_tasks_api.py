"""/api/v1/tasks: list (status, kind, assignee, patient, overdue), read, close with If-Match;
who sees which tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.tasks.models import TaskKind, TaskStatus
from tests import factories
from tests.api.conftest import assert_page_shape
from tests.tasks.conftest import discharge, tasks_of

CONTACT, VISIT = TaskKind.DISCHARGE_CONTACT, TaskKind.DISCHARGE_VISIT


@pytest.fixture
def patient(case_manager):
    return factories.make_patient(case_manager_id=case_manager.id)


@pytest.fixture
def stay(patient):
    today = local_today()
    return discharge(patient, today - timedelta(days=10), lace=12, today=today)


def test_list_and_filters(api, case_manager, patient, stay):
    other = factories.make_patient(case_manager_id=case_manager.id)
    fresh = discharge(other, local_today(), lace=3, today=local_today())
    caller = api(case_manager)
    body = caller.get("/api/v1/tasks").get_json()
    assert_page_shape(body, total=4)
    first = body["items"][0]
    assert set(first) == {"id", "kind", "patient_id", "assignee_id", "stay_id", "lace_score",
                          "window_start", "due_on", "overdue", "status", "resolution",
                          "resolved_at", "resolved_by", "contact_id", "contact",
                          "appointment_id", "note", "created_at", "version"}
    overdue = caller.get("/api/v1/tasks?overdue=true").get_json()
    assert {(t["stay_id"], t["kind"]) for t in overdue["items"]} == \
        {(stay.id, "discharge_contact"), (stay.id, "discharge_visit")}
    assert all(t["overdue"] and t["lace_score"] == 12 for t in overdue["items"])
    assert caller.get("/api/v1/tasks?overdue=false").get_json()["total"] == 2
    assert caller.get(f"/api/v1/tasks?patient={other.id}&kind=discharge_visit") \
        .get_json()["items"][0]["id"] == tasks_of(fresh)[VISIT].id
    assert caller.get(f"/api/v1/tasks?assignee={case_manager.id}&status=open") \
        .get_json()["total"] == 4
    assert caller.get("/api/v1/tasks?status=done").get_json()["total"] == 0
    search = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "task_search")).all()
    # Six searches: one entry per patient each showed (2 + 1 + 1 + 1 + 2), and the empty one
    # leaves its criteria without a patient.
    assert len(search) == 8
    assert [e.details["criteria"] for e in search if e.patient_id is None] == [{"status": "done"}]


@pytest.mark.parametrize("query, field", [
    ("status=closed", "status"), ("kind=visit", "kind"), ("assignee=0", "assignee"),
    ("patient=abc", "patient"), ("overdue=maybe", "overdue"), ("per_page=501", "per_page"),
])
def test_bad_filters_answer_422_naming_the_field(api, case_manager, query, field):
    response = api(case_manager).get(f"/api/v1/tasks?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_read_and_close_with_if_match(api, case_manager, stay):
    task = tasks_of(stay)[VISIT]
    caller = api(case_manager)
    read = caller.get(f"/api/v1/tasks/{task.id}")
    assert read.status_code == 200
    etag = read.headers["ETag"]
    assert etag == f'"{task.id}-{task.version}"'
    body = {"status": "done", "note": "Vue par l’IDE à domicile"}
    assert caller.patch(f"/api/v1/tasks/{task.id}", json=body).status_code == 428
    assert caller.patch(f"/api/v1/tasks/{task.id}", json=body,
                        headers={"If-Match": '"1-0"'}).status_code == 412
    refused = caller.patch(f"/api/v1/tasks/{task.id}", json={"status": "done", "note": ""},
                           headers={"If-Match": etag})
    assert refused.status_code == 422 and "note" in refused.get_json()["errors"]
    refused = caller.patch(f"/api/v1/tasks/{task.id}", json={"status": "open", "note": "x"},
                           headers={"If-Match": etag})
    assert refused.status_code == 422 and "status" in refused.get_json()["errors"]
    closed = caller.patch(f"/api/v1/tasks/{task.id}", json=body, headers={"If-Match": etag})
    assert closed.status_code == 200, closed.get_json()
    answer = closed.get_json()
    assert (answer["status"], answer["resolution"], answer["note"]) == \
        ("done", "manual", "Vue par l’IDE à domicile")
    assert closed.headers["ETag"] != etag
    again = caller.patch(f"/api/v1/tasks/{task.id}", json=body,
                         headers={"If-Match": closed.headers["ETag"]})
    assert again.status_code == 422 and "status" in again.get_json()["errors"]
    assert tasks_of(stay)[VISIT].status == TaskStatus.DONE


def test_a_contact_resolution_is_read_with_its_outcome(api, case_manager, patient, stay):
    from coordinator.tasks import services

    services.record_contact(db.session, factories.case_plan_actor(case_manager), patient, {
        "occurred_at": stay.discharged_at + timedelta(days=1), "channel": "phone",
        "outcome": "wrong_number"})
    db.session.commit()
    task = tasks_of(stay)[CONTACT]
    body = api(case_manager).get(f"/api/v1/tasks/{task.id}").get_json()
    assert (body["status"], body["resolution"], body["contact"]["outcome"]) == \
        ("done", "contact", "wrong_number")


def test_who_sees_which_tasks(api, make_user, admin, other_case_manager, stay):
    task = tasks_of(stay)[CONTACT]
    assert api(admin).get(f"/api/v1/tasks/{task.id}").status_code == 200
    assert api(admin).get("/api/v1/tasks").get_json()["total"] == 2
    assert api(other_case_manager).get(f"/api/v1/tasks/{task.id}").status_code == 404
    assert api(other_case_manager).get("/api/v1/tasks").get_json()["total"] == 0
    assert api(other_case_manager).patch(
        f"/api/v1/tasks/{task.id}", json={"status": "done", "note": "x"},
        headers={"If-Match": f'"{task.id}-{task.version}"'}).status_code == 404
    gp = make_user(role="gp", provider_id=factories.make_provider("gp").id)
    for user in (gp, make_user(role="council"), make_user(role="integration")):
        caller = api(user)
        assert caller.get("/api/v1/tasks").status_code == 403
        assert caller.get(f"/api/v1/tasks/{task.id}").status_code == 403


def test_unknown_task_is_404(api, case_manager):
    assert api(case_manager).get("/api/v1/tasks/999999").status_code == 404
    assert api(case_manager).get("/api/v1/tasks/99999999999").status_code == 404
