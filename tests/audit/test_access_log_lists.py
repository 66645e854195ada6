"""Who saw this patient (issue #15, finding 6): every list writes one READ entry per patient it
showed (the current page only, in one statement), the new-plan form is an audited read, and a
patient's access log (an administrators' page, `flask audit patient`) lists every read, print,
export and change of that patient."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction, AuditEntry
from coordinator.auth import services as auth_services
from coordinator.core.context import Actor
from coordinator.core.time import as_utc, local_today, utcnow
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.scheduling import feeds
from coordinator.scheduling.models import Appointment
from coordinator.tasks.models import Task, TaskKind
from tests import factories

ACTOR = Actor.system("test")


def entries(entity_type: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == entity_type, AuditEntry.action == AuditAction.READ)
        .order_by(AuditEntry.id)))


def shown(entity_type: str) -> set[int | None]:
    return {entry.patient_id for entry in entries(entity_type)}


def patients_of(case_manager, count: int, **extra) -> list[int]:
    return [factories.make_patient(case_manager_id=case_manager.id, **extra).id
            for _ in range(count)]


def appointment(patient_id: int, provider_id: int, starts_at: datetime,
                status: str = "scheduled", **extra) -> int:
    row = Appointment(patient_id=patient_id, provider_id=provider_id, kind="consultation",
                      starts_at=starts_at, duration_minutes=30,
                      ends_at=starts_at + timedelta(minutes=30), status=status,
                      created_by="test", **extra)
    db.session.add(row)
    db.session.commit()
    return row.id


def bearer(user) -> dict:
    issued = auth_services.issue_token(db.session, user, ACTOR)
    db.session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


@pytest.fixture
def nurse():
    return factories.make_provider("nurse")


# -- The bulk entry ----------------------------------------------------------------------------

def test_record_shown_writes_one_entry_per_patient_in_one_statement(session, count_queries):
    ids = [factories.make_patient().id for _ in range(30)]
    with count_queries(fresh_session=False) as queries:
        written = audit.record_shown(session, ACTOR, "worklist", [*ids, ids[0], None],
                                     summary="31 row(s)", details={"criteria": {"a": 1}})
    # one INSERT, and the hash chain's head taken and moved (audit/chain.py): 3 whatever the rows
    assert written == 30 and queries.count == 3, queries.report()
    session.commit()
    rows = entries("worklist")
    assert [row.patient_id for row in rows] == ids
    assert {(row.summary, str(row.details), row.actor_label, row.entity_id) for row in rows} == {
        ("31 row(s)", "{'criteria': {'a': 1}}", ACTOR.label, None)}
    assert len({row.occurred_at for row in rows}) == 1


def test_a_list_that_showed_nobody_keeps_its_criteria(session):
    audit.record_shown(session, ACTOR, "patient_search", [], summary="0 result(s)",
                       details={"criteria": {"name": "x"}})
    session.commit()
    [entry] = entries("patient_search")
    assert entry.patient_id is None and entry.details == {"criteria": {"name": "x"}}


# -- Each list ---------------------------------------------------------------------------------

def test_patient_search_writes_the_patients_of_the_page_shown(client, logged_in, case_manager):
    first, second, third = (factories.make_patient(birth_name=f"Accesslog{suffix}").id
                            for suffix in ("aa", "bb", "cc"))
    other = factories.make_patient(birth_name="Unrelated").id
    logged_in(case_manager)
    assert client.get("/patients/?name=accesslog&per_page=2").status_code == 200
    assert [e.patient_id for e in entries("patient_search")] == [first, second]
    assert client.get("/patients/?name=accesslog&per_page=2&page=2").status_code == 200
    rows = entries("patient_search")
    assert [e.patient_id for e in rows] == [first, second, third]
    assert other not in shown("patient_search")
    assert {e.summary for e in rows} == {"3 result(s)"}
    assert rows[-1].details["criteria"]["name"] == "accesslog"


def test_api_patient_search_writes_each_patient_returned(client, case_manager):
    ids = [factories.make_patient(birth_name=f"Apilog{suffix}").id for suffix in ("a", "b")]
    response = client.get("/api/v1/patients?name=apilog", headers=bearer(case_manager))
    assert response.status_code == 200
    assert shown("patient_search") == set(ids)


def test_the_likely_duplicates_shown_are_written(client, case_manager):
    existing = factories.make_patient(birth_name="Dupont", first_names="Jacques", sex="M",
                                      birth_date=date(1948, 3, 14))
    body = {"birth_name": "Dupont", "first_names": "Jacques", "sex": "M",
            "birth_date": "1948-03-14", "territory_code": "DOUAISIS"}
    response = client.post("/api/v1/patients", json=body, headers=bearer(case_manager))
    assert response.status_code == 409, response.get_json()
    assert shown("patient_duplicates") == {existing.id}


def test_the_case_managers_worklist_writes_its_patients(client, logged_in, case_manager,
                                                         other_case_manager):
    mine = patients_of(case_manager, 3)
    elsewhere = factories.make_patient("CORNOUAILLE", case_manager_id=other_case_manager.id).id
    logged_in(case_manager)
    assert client.get("/").status_code == 200
    seen = shown("worklist")
    assert set(mine) <= seen and elsewhere not in seen


def test_the_plan_list_writes_the_plans_patients(client, logged_in, case_manager):
    with_plan = patients_of(case_manager, 2)
    for patient_id in with_plan:
        factories.make_care_plan(db.session.get(Patient, patient_id))
    without = patients_of(case_manager, 1)
    logged_in(case_manager)
    assert client.get("/careplans/").status_code == 200
    assert shown("care_plan_list") == set(with_plan)
    assert without[0] not in shown("care_plan_list")


def test_a_gp_list_writes_only_their_consenting_patients(client, logged_in, make_user):
    gp = factories.make_provider("gp")
    user = make_user(role="gp", provider_id=gp.id, territory_code=None)
    consenting = factories.make_patient(gp_id=gp.id, consent_share=True)
    refusing = factories.make_patient(gp_id=gp.id, consent_share=False)
    not_theirs = factories.make_patient(consent_share=True)
    for patient in (consenting, refusing, not_theirs):
        factories.make_care_plan(patient, status="active")
    logged_in(user)
    assert client.get("/").status_code == 200
    assert client.get("/careplans/").status_code == 200
    assert shown("care_plan_list") == {consenting.id}


def test_the_day_list_writes_the_days_patients(client, logged_in, case_manager, nurse):
    day = local_today() + timedelta(days=2)
    that_day = patients_of(case_manager, 2)
    for index, patient_id in enumerate(that_day):
        appointment(patient_id, nurse.id, as_utc(datetime.combine(day, time(9 + index))))
    other_day = patients_of(case_manager, 1)[0]
    appointment(other_day, nurse.id, as_utc(datetime.combine(day + timedelta(days=1), time(9))))
    logged_in(case_manager)
    assert client.get(f"/scheduling/day?date={day.isoformat()}").status_code == 200
    assert shown("day_list") == set(that_day)
    assert {e.summary for e in entries("day_list")} == {"2 appointment(s)"}


def test_the_no_show_list_writes_its_patients(client, logged_in, case_manager, nurse):
    chased, missing, attended = patients_of(case_manager, 3, phone="0600000000")
    appointment(chased, nurse.id, utcnow() - timedelta(days=5), "no_show")
    appointment(missing, nurse.id, utcnow() - timedelta(days=1),
                outcome_missing_since=utcnow())
    appointment(attended, nurse.id, utcnow() - timedelta(days=5), "attended")
    logged_in(case_manager)
    assert client.get("/scheduling/no-shows").status_code == 200
    assert shown("no_show_worklist") == {chased, missing}


def test_the_task_list_writes_its_patients(client, logged_in, case_manager):
    assigned, elsewhere = patients_of(case_manager, 2)
    today = local_today()
    db.session.add(Task(kind=TaskKind.DISCHARGE_CONTACT, patient_id=assigned,
                        assignee_id=case_manager.id, window_start=today,
                        due_on=today + timedelta(days=2)))
    db.session.add(Task(kind=TaskKind.DISCHARGE_CONTACT, patient_id=elsewhere,
                        assignee_id=None, window_start=today, due_on=today + timedelta(days=2)))
    db.session.commit()
    logged_in(case_manager)
    assert client.get("/tasks/").status_code == 200  # the user's own open tasks
    assert shown("task_list") == {assigned}


def test_the_caseload_calendar_writes_the_patients_it_names(client, logged_in, case_manager,
                                                            nurse):
    day = local_today()
    this_week = patients_of(case_manager, 2)
    for patient_id in this_week:
        appointment(patient_id, nurse.id, as_utc(datetime.combine(day, time(10))))
    later = patients_of(case_manager, 1)[0]
    appointment(later, nurse.id, as_utc(datetime.combine(day + timedelta(days=60), time(10))))
    logged_in(case_manager)
    assert client.get(f"/calendar/caseload?date={day.isoformat()}").status_code == 200
    assert shown("caseload_calendar") == set(this_week)


def test_the_api_appointment_list_writes_each_page_patients(client, case_manager, nurse):
    ids = patients_of(case_manager, 3)
    for index, patient_id in enumerate(ids):
        appointment(patient_id, nurse.id, utcnow() + timedelta(days=1 + index))
    headers = bearer(case_manager)
    assert client.get("/api/v1/appointments?per_page=2", headers=headers).status_code == 200
    assert shown("appointment_search") == set(ids[:2])
    assert client.get("/api/v1/appointments?per_page=2&page=2",
                      headers=headers).status_code == 200
    assert [e.patient_id for e in entries("appointment_search")] == ids


def test_a_provider_feed_writes_one_entry_per_patient_it_names(client, case_manager, nurse):
    ids = patients_of(case_manager, 2)
    for patient_id in ids:
        appointment(patient_id, nurse.id, utcnow() + timedelta(days=1))
    feed, token = feeds.create_feed(db.session, ACTOR, provider=nurse)
    db.session.commit()
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 200
    rows = entries("calendar_feed")
    assert {e.patient_id for e in rows} == set(ids)
    assert {(e.entity_id, e.actor_label) for e in rows} == {
        (str(feed.id), f"calendar-feed-{feed.id}")}


def test_the_new_plan_form_is_an_audited_read(client, logged_in, case_manager):
    patient_id = patients_of(case_manager, 1)[0]
    logged_in(case_manager)
    assert client.get(f"/careplans/new/{patient_id}").status_code == 200
    [entry] = entries("care_plan_form")
    assert (entry.patient_id, entry.entity_id, entry.actor_user_id) == (
        patient_id, str(patient_id), case_manager.id)


# -- A patient's access log --------------------------------------------------------------------

def _history(patient_id: int, other_id: int, user) -> None:
    actor = Actor(user_id=user.id, label=user.email, ip_address="10.0.0.7")
    audit.record(db.session, actor, AuditAction.READ, "patient", patient_id,
                 patient_id=patient_id)
    audit.record_shown(db.session, actor, "patient_search", [patient_id, other_id],
                       summary="2 result(s)")
    audit.record(db.session, actor, AuditAction.PRINT, "care_plan", 5, patient_id=patient_id,
                 summary="printed summary")
    audit.record(db.session, actor, AuditAction.EXPORT, "patient", patient_id,
                 patient_id=patient_id, summary="exported")
    audit.record(db.session, actor, AuditAction.UPDATE, "patient", patient_id,
                 patient_id=patient_id, summary="address changed")
    audit.record(db.session, actor, AuditAction.READ, "patient", other_id, patient_id=other_id,
                 summary="the other patient")
    audit.record(db.session, actor, AuditAction.LOGIN, "user", user.id)
    db.session.commit()


def test_the_access_log_page_lists_that_patients_reads_prints_exports_changes(
        client, logged_in, admin, case_manager):
    patient_id, other_id = patients_of(case_manager, 2)
    _history(patient_id, other_id, case_manager)
    logged_in(admin)
    patient_page = client.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert f'href="/admin/audit/patients/{patient_id}"' in patient_page
    response = client.get(f"/admin/audit/patients/{patient_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in ("patient_search", "printed summary", "exported", "address changed",
                 case_manager.email, "10.0.0.7", ">Imprimé<", ">Exporté<", ">Modifié<"):
        assert text in page, text
    assert "the other patient" not in page and "<td>Connexion</td>" not in page
    # The five of the history, and the administrator's own opening of the record just now.
    assert page.count("<tr>") - 1 == 6 and admin.email in page


def test_the_access_log_page_is_for_administrators_only(client, logged_in, case_manager):
    patient_id = patients_of(case_manager, 1)[0]
    logged_in(case_manager)
    assert client.get(f"/admin/audit/patients/{patient_id}").status_code == 403
    patient_page = client.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "/admin/audit/patients/" not in patient_page


def test_the_access_log_page_query_count_does_not_grow(client, logged_in, admin,
                                                       case_manager, count_queries):
    patient_id = patients_of(case_manager, 1)[0]
    logged_in(admin)

    def queries_for(reads: int) -> int:
        for _ in range(reads):
            audit.record(db.session, ACTOR, AuditAction.READ, "patient", patient_id,
                         patient_id=patient_id)
        db.session.commit()
        with count_queries() as queries:
            assert client.get(f"/admin/audit/patients/{patient_id}").status_code == 200
        return queries.count

    assert queries_for(2) == queries_for(40)


def test_the_cli_prints_a_patients_access_log(app, case_manager):
    patient_id, other_id = patients_of(case_manager, 2)
    _history(patient_id, other_id, case_manager)
    runner = app.test_cli_runner()
    text = runner.invoke(args=["audit", "patient", str(patient_id)])
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert len(lines) == 5
    assert all(case_manager.email in line for line in lines)
    assert "address changed" in lines[0] and "update" in lines[0]  # newest first
    assert "the other patient" not in text.stdout
    csv_out = runner.invoke(args=["audit", "patient", str(patient_id), "--format", "csv"])
    assert csv_out.exit_code == 0, csv_out.output
    rows = csv_out.stdout.splitlines()
    assert rows[0].startswith("occurred_at,actor_label") and len(rows) == 6
    assert {row.split(",")[4] for row in rows[1:]} == {"read", "print", "export", "update"}
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    later = runner.invoke(args=["audit", "patient", str(patient_id), "--since", tomorrow])
    assert later.exit_code == 0 and later.stdout == ""
    bad = runner.invoke(args=["audit", "patient", str(patient_id), "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since" in bad.output


def test_the_access_log_follows_a_date(app, case_manager):
    patient_id = patients_of(case_manager, 1)[0]
    audit.record(db.session, ACTOR, AuditAction.READ, "patient", patient_id,
                 patient_id=patient_id)
    db.session.commit()
    today = local_today()
    assert len(db.session.scalars(audit.patient_log([patient_id], today)).all()) == 1
    assert db.session.scalars(audit.patient_log([patient_id], today + timedelta(days=1))
                              ).all() == []
