"""The audit trail: appended by services, append-only, browsed and exported by administrators."""

import csv
import io

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from coordinator.audit import services as audit
from coordinator.audit.models import AuditEntry, AuditImmutableError
from coordinator.core.context import Actor
from coordinator.core.time import local_today


@pytest.fixture
def entries(session, case_manager):
    actor = Actor.for_user(case_manager, "10.1.2.3")
    made = [
        audit.record(session, actor, "read", "patient", 41, patient_id=41, summary="opened"),
        audit.record(session, actor, "update", "patient", 41, patient_id=41, summary="phone"),
        audit.record(session, Actor.system("cli"), "create", "user", 7, summary="created"),
    ]
    session.commit()
    return made


def test_record_keeps_who_what_which_patient_when_and_where(entries, case_manager):
    entry = entries[0]
    assert entry.actor_user_id == case_manager.id
    assert entry.actor_label == case_manager.email
    assert entry.ip_address == "10.1.2.3"
    assert (entry.action, entry.entity_type, entry.entity_id, entry.patient_id) == (
        "read", "patient", "41", 41)
    assert entry.occurred_at.tzinfo is not None


def test_unknown_action_is_refused(session):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(session, Actor.system(), "peek", "patient", 1)


def test_orm_refuses_to_change_or_delete_an_entry(session, entries):
    entries[0].summary = "tampered"
    with pytest.raises(AuditImmutableError):
        session.flush()
    session.rollback()
    session.delete(session.get(AuditEntry, entries[1].id))
    with pytest.raises(AuditImmutableError):
        session.flush()
    session.rollback()


def test_database_refuses_to_change_or_delete_an_entry(session, entries):
    for statement in ("UPDATE audit_entry SET summary = 'x'", "DELETE FROM audit_entry"):
        nested = session.begin_nested()
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(statement))
        nested.rollback()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) >= 3


def test_no_route_can_change_the_audit_trail(app):
    routes = {rule.rule: rule.methods for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("audit.")}
    assert {"/admin/audit/", "/admin/audit/export.csv"} <= set(routes), routes
    writers = {path: methods - {"GET", "HEAD", "OPTIONS"} for path, methods in routes.items()}
    assert {path: methods for path, methods in writers.items() if methods} == {}


def test_admin_browses_and_filters(client, logged_in, admin, entries):
    logged_in(admin)
    page = client.get("/admin/audit/?patient_id=41").get_data(as_text=True)
    assert "opened" in page and "phone" in page
    assert "created" not in page
    page = client.get("/admin/audit/?action=create").get_data(as_text=True)
    assert "created" in page and "opened" not in page
    today = local_today().isoformat()
    page = client.get(f"/admin/audit/?date_from={today}&date_to={today}&actor=user"
                      ).get_data(as_text=True)
    assert "opened" in page


def test_bad_filter_names_the_field(client, logged_in, admin):
    logged_in(admin)
    response = client.get("/admin/audit/?date_from=31-31-2026")
    assert response.status_code == 400
    assert 'id="date_from-error"' in response.get_data(as_text=True)


def test_admin_exports_csv_and_the_export_is_audited(client, logged_in, admin, entries,
                                                     session):
    logged_in(admin)
    response = client.get("/admin/audit/export.csv?patient_id=41")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {row["summary"] for row in rows} == {"opened", "phone"}
    assert all(row["patient_id"] == "41" for row in rows)
    exports = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "export", AuditEntry.actor_user_id == admin.id))
    assert exports == 1


def test_csv_export_neutralises_spreadsheet_formulas(client, logged_in, admin, session):
    audit.record(session, Actor.system(), "update", "patient", 1, summary="=HYPERLINK(1)")
    session.commit()
    logged_in(admin)
    body = client.get("/admin/audit/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in body


@pytest.mark.parametrize("role", ["case_manager", "gp", "council"])
def test_only_administrators_read_the_audit_trail(client, logged_in, make_user, role):
    logged_in(make_user(role=role))
    assert client.get("/admin/audit/").status_code == 403
    assert client.get("/admin/audit/export.csv").status_code == 403


def test_patient_trail_follows_a_merge(client, logged_in, admin, session):
    from coordinator.patients.merge import merge_patients
    from tests.factories import make_patient

    keep, dup = make_patient(), make_patient()
    audit.record(session, Actor.system(), "read", "patient", dup.id, patient_id=dup.id,
                 summary="read before the merge")
    merge_patients(session, Actor.system(), keep, dup)
    session.commit()
    logged_in(admin)
    body = client.get(f"/admin/audit/?patient_id={keep.id}").get_data(as_text=True)
    assert "read before the merge" in body
