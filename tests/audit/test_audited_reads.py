"""An audited read commits without expiring what it loaded (coordinator/audit/session.py);
any other write expires everything at its commit, as SQLAlchemy does by default."""

from __future__ import annotations

from sqlalchemy import select, update

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction, AuditEntry
from coordinator.core.context import Actor
from coordinator.patients.models import Patient
from tests import factories

ACTOR = Actor.system("test")


def _loaded(session, patient_id: int) -> Patient:
    session.remove()
    patient = session.get(Patient, patient_id)
    assert patient.birth_name  # loaded
    return patient


def _queries_to_read(count_queries, patient: Patient) -> int:
    with count_queries(fresh_session=False) as queries:
        _ = patient.birth_name, patient.first_names
    return queries.count


def test_a_commit_of_audit_entries_only_keeps_the_loaded_objects(session, count_queries):
    patient = _loaded(session, factories.make_patient().id)
    audit.record(session, ACTOR, AuditAction.READ, "patient", patient.id, patient_id=patient.id)
    audit.record_each(session, ACTOR, AuditAction.READ, "patient", [(patient.id, patient.id)])
    session.commit()
    assert _queries_to_read(count_queries, patient) == 0
    assert session().expire_on_commit  # restored for the next transaction


def test_a_commit_with_any_other_write_expires_as_usual(session, count_queries):
    patient = _loaded(session, factories.make_patient().id)
    audit.record(session, ACTOR, AuditAction.READ, "patient", patient.id, patient_id=patient.id)
    factories.make_provider()  # another row written (and committed) in the transaction
    assert _queries_to_read(count_queries, patient) == 1


def test_a_bulk_statement_expires_as_usual(session, count_queries):
    patient = _loaded(session, factories.make_patient().id)
    session.execute(update(Patient).where(Patient.id == patient.id).values(city="Douai"))
    session.commit()
    assert _queries_to_read(count_queries, patient) == 1
    assert patient.city == "Douai"


def test_a_savepoint_of_audit_entries_does_not_spare_the_outer_commit(session, count_queries):
    patient = _loaded(session, factories.make_patient().id)
    with session.begin_nested():
        audit.record(session, ACTOR, AuditAction.READ, "patient", patient.id)
    patient.city = "Lille"
    session.commit()
    assert _queries_to_read(count_queries, patient) == 1


def test_a_rollback_expires_as_usual(session, count_queries):
    patient = _loaded(session, factories.make_patient().id)
    audit.record(session, ACTOR, AuditAction.READ, "patient", patient.id)
    session.rollback()
    assert _queries_to_read(count_queries, patient) == 1


def test_entries_recorded_at_once_are_those_recorded_one_by_one(session):
    first = audit.record(session, ACTOR, AuditAction.READ, "care_plan", 7, patient_id=3)
    audit.record_each(session, ACTOR, AuditAction.READ, "care_plan", [(7, 3), (8, None)])
    session.commit()
    columns = ("actor_user_id", "actor_label", "ip_address", "action", "entity_type",
               "entity_id", "patient_id", "summary", "details")
    rows = session.scalars(select(AuditEntry).where(AuditEntry.id >= first.id)
                           .order_by(AuditEntry.id)).all()
    values = [tuple(getattr(row, name) for name in columns) for row in rows]
    assert values[1] == values[0]
    assert values[2][5:7] == ("8", None)
    assert rows[1].occurred_at >= rows[0].occurred_at
