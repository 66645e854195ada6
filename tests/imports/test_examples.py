"""The example files of the format spec import, in dependency order, into the expected rows;
a second import changes nothing; a dry run writes nothing."""

from datetime import date

from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.imports.models import ImportReport
from coordinator.patients.models import ConsentEvent, Patient
from coordinator.providers.models import Provider
from coordinator.scheduling.models import Appointment
from coordinator.strata.models import StratumAssignment
from tests import factories
from tests.imports.conftest import ORDER, run_example


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def snapshot(session) -> dict:
    """Every imported value, to compare before and after a second import."""
    return {
        "providers": session.execute(select(Provider.__table__).order_by(Provider.id)).all(),
        "patients": session.execute(select(Patient.__table__).order_by(Patient.id)).all(),
        "assignments": session.execute(select(StratumAssignment.__table__)
                                       .order_by(StratumAssignment.id)).all(),
        "consents": session.execute(select(ConsentEvent.__table__)).all(),
    }


def test_examples_import_into_the_expected_rows(session, examples):
    reports = examples()
    assert [(r.rows_read, r.created, r.updated, r.unchanged, r.skipped, r.error_count)
            for r in reports.values()] == [(6, 6, 0, 0, 0, 0), (4, 4, 0, 0, 0, 0),
                                           (7, 7, 0, 0, 0, 0)]
    assert all(r.status == "succeeded" and r.finished_at for r in reports.values())

    gp = session.scalar(select(Provider).where(Provider.external_id == "PRV-001"))
    assert (gp.kind, gp.name, gp.name_folded, gp.rpps, gp.territory.code, gp.phone, gp.city) == (
        "gp", "Dr Claire Martin", "DR CLAIRE MARTIN", "10003456789", "DOUAISIS",
        "03 27 00 00 01", "Douai")
    ssiad = session.scalar(select(Provider).where(Provider.external_id == "PRV-004"))
    assert (ssiad.finess, ssiad.rpps, ssiad.organisation) == ("590000013", None, None)

    patients = {p.external_id: p for p in session.scalars(select(Patient))}
    dupont = patients["PAT-001"]
    assert (dupont.nir, dupont.birth_name_folded, dupont.first_name_folded, dupont.birth_date,
            dupont.sex, dupont.birth_place_insee, dupont.gp.external_id, dupont.consent_share,
            dupont.identity_status) == ("148035917801213", "DUPONT", "JACQUES",
                                        date(1948, 3, 14), "M", "59178", "PRV-001", True,
                                        "provisional")
    lefebvre = patients["PAT-002"]  # the `;` file with a DD/MM/YYYY date
    assert (lefebvre.used_name, lefebvre.used_name_folded, lefebvre.birth_date) == (
        "MOREAU", "MOREAU", date(1939, 11, 2))
    assert patients["PAT-003"].nir is None and patients["PAT-003"].consent_share is False
    andreani = patients["PAT-004"]  # Corsica
    assert (andreani.nir, andreani.birth_place_insee, andreani.territory.code,
            andreani.deceased_date) == ("135052A00400703", "2A004", "CORNOUAILLE",
                                        date(2026, 2, 10))
    consents = session.execute(select(ConsentEvent.patient_id, ConsentEvent.consent_share)).all()
    assert sorted(consents) == sorted((patients[e].id, True)
                                      for e in ("PAT-001", "PAT-002", "PAT-004"))
    assert dupont.consent_date is not None and patients["PAT-003"].consent_date is None

    rows = session.execute(
        select(Patient.external_id, StratumAssignment.effective_date,
               StratumAssignment.end_date, StratumAssignment.stratum_id,
               StratumAssignment.reason)
        .join(Patient, Patient.id == StratumAssignment.patient_id)
        .order_by(Patient.external_id, StratumAssignment.program_id,
                  StratumAssignment.effective_date)).all()
    hf2, hf3 = factories.stratum("HF-2").id, factories.stratum("HF-3").id
    assert rows[:2] == [
        ("PAT-001", date(2025, 9, 1), date(2026, 3, 14), hf2, "NYHA II after first admission"),
        ("PAT-001", date(2026, 3, 15), None, hf3, "two admissions in six months"),
    ]
    exit_rows = [row for row in rows if row[0] == "PAT-004"]
    assert exit_rows == [("PAT-004", date(2025, 6, 1), date(2026, 2, 9), hf3, None),
                         ("PAT-004", date(2026, 2, 10), None, None, "deceased")]
    assert len(rows) == 7


def test_every_change_of_patient_data_is_audited(session, examples):
    reports = examples()
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    by_type = {}
    for entry in entries:
        by_type.setdefault(entry.entity_type, []).append(entry)
    assert len(by_type["patient"]) == 4 and len(by_type["stratum_assignment"]) == 7
    assert len(by_type["provider"]) == 6 and len(by_type["import_report"]) == 3
    patient_entry = by_type["patient"][0]
    assert patient_entry.action == "create" and patient_entry.patient_id is not None
    assert f"import #{reports['patients'].id}" in patient_entry.summary
    assert patient_entry.actor_label == "test"
    enrollment = by_type["stratum_assignment"][0]
    assert enrollment.patient_id is not None and "import #" in enrollment.summary
    assert all(entry.patient_id for entry in by_type["stratum_assignment"])


def test_importing_the_same_files_twice_changes_nothing(session, examples):
    examples()
    before = snapshot(session)
    audited = count(session, AuditEntry)
    second = examples()
    assert [(r.created, r.updated, r.unchanged) for r in second.values()] == [
        (0, 0, 6), (0, 0, 4), (0, 0, 7)]
    assert snapshot(session) == before
    assert count(session, AuditEntry) == audited + 3  # only the three run summaries


def test_a_dry_run_writes_nothing_but_its_report(session, examples):
    dry = run_example(session, "providers", dry_run=True)
    assert (dry.status, dry.dry_run, dry.created) == ("succeeded", True, 6)
    assert count(session, Provider) == 0
    examples("providers", "patients")
    before = snapshot(session)
    dry = run_example(session, "enrollments", dry_run=True)
    assert (dry.status, dry.created) == ("succeeded", 7)
    assert snapshot(session) == before and count(session, StratumAssignment) == 0
    assert count(session, ImportReport) == 4
    assert session.scalars(select(AuditEntry.entity_type)
                           .where(AuditEntry.entity_type != "import_report")
                           .where(AuditEntry.summary.contains(f"import #{dry.id}"))).all() == []


def test_the_examples_in_any_order_refuse_unknown_references(session):
    report = run_example(session, "patients")
    assert report.status == "rejected" and report.error_count == 4
    assert {e["column"] for e in report.errors} == {"gp_external_id"}
    assert count(session, Patient) == 0


def test_the_appointments_example_imports_after_the_others_and_once(session, examples):
    examples()
    report = run_example(session, "appointments")
    assert (report.status, report.rows_read, report.created, report.error_count) == (
        "succeeded", 5, 5, 0), report.errors
    statuses = session.execute(select(Appointment.external_id, Appointment.status)
                               .order_by(Appointment.external_id)).all()
    assert [status for _id, status in statuses] == [
        "attended", "no_show", "attended", "cancelled_patient", "scheduled"]
    again = run_example(session, "appointments")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert count(session, Appointment) == 5


def test_order_constant_covers_the_examples():
    assert ORDER == ("providers", "patients", "enrollments")
