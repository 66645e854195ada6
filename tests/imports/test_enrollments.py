"""The enrollments format: stratum assignments keyed by (patient, program, effective date),
transitions, exits, end dates kept set-based, the strata rules."""

from datetime import date

from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.patients.models import Patient
from coordinator.strata.models import StratumAssignment
from tests import factories
from tests.imports.conftest import messages, run

HEADER = "patient_external_id,program_code,stratum_code,effective_date,reason"


def enrollments(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def timeline(session, external_id: str, program: str = "HF") -> list[tuple]:
    session.expire_all()
    rows = session.execute(
        select(StratumAssignment.effective_date, StratumAssignment.end_date,
               StratumAssignment.stratum_id, StratumAssignment.reason)
        .join(Patient, Patient.id == StratumAssignment.patient_id)
        .where(Patient.external_id == external_id,
               StratumAssignment.program_id == factories.program(program).id)
        .order_by(StratumAssignment.effective_date)).all()
    codes = {None: "exit"} | {factories.stratum(f"{program}-{n}").id: f"{program}-{n}"
                              for n in (1, 2, 3)}
    return [(start, end, codes[stratum], reason) for start, end, stratum, reason in rows]


def test_rows_errors_name_their_column(session, examples):
    examples("providers", "patients")
    report = run(session, "enrollments", enrollments(
        "PAT-001,HF,DIAB-2,2025-01-01,",  # a stratum of another program
        "PAT-004,HF,HF-2,2026-03-01,",  # after death (2026-02-10)
        "PAT-001,XX,HF-2,2025-01-01,",
        "PAT-001,HF,HF-9,2025-01-01,",
        "PAT-999,HF,HF-2,2025-01-01,",
        "PAT-003,HF,HF-1,1950-01-01,",  # before birth (1961)
        "PAT-003,COPD,exit,2025-01-01,",  # not enrolled
    ))
    assert report.status == "rejected" and report.skipped == 7
    assert messages(report) == [
        "line 2, column stratum_code: Stratum DIAB-2 is not a stratum of program HF.",
        "line 3, column effective_date: The effective date cannot be after the date of death.",
        "line 4, column program_code: Unknown program “XX”.",
        "line 5, column stratum_code: Unknown stratum “HF-9” (or write exit).",
        "line 6, column patient_external_id: No patient you may import for has the "
        "external_id “PAT-999”.",
        "line 7, column effective_date: The effective date cannot be before the birth date.",
        "line 8, column stratum_code: The patient is not enrolled in this program.",
    ]


def test_transitions_exit_and_reentry_keep_end_dates_across_batches(session, examples):
    examples("providers", "patients")
    report = run(session, "enrollments", enrollments(
        "PAT-003,HF,HF-1,2025-01-01,first",
        "PAT-003,HF,HF-3,2025-09-01,",
        "PAT-003,HF,exit,2025-12-01,better",
        "PAT-003,HF,HF-1,2026-01-10,again",
        "PAT-003,HF,HF-2,2025-06-01,inserted in the past"), batch_size=2)
    assert (report.status, report.created) == ("succeeded", 5), report.errors
    assert timeline(session, "PAT-003") == [
        (date(2025, 1, 1), date(2025, 5, 31), "HF-1", "first"),
        (date(2025, 6, 1), date(2025, 8, 31), "HF-2", "inserted in the past"),
        (date(2025, 9, 1), date(2025, 11, 30), "HF-3", None),
        (date(2025, 12, 1), date(2026, 1, 9), "exit", "better"),
        (date(2026, 1, 10), None, "HF-1", "again"),
    ]


def test_a_changed_stratum_for_the_same_date_updates_that_assignment(session, examples):
    examples()
    report = run(session, "enrollments", enrollments(
        "PAT-001,HF,HF-1,2026-03-15,revised"))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    assert timeline(session, "PAT-001") == [
        (date(2025, 9, 1), date(2026, 3, 14), "HF-2", "NYHA II after first admission"),
        (date(2026, 3, 15), None, "HF-1", "revised"),
    ]
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.entity_type == "stratum_assignment", AuditEntry.action == "update"))
    assert "HF: HF-1 from 2026-03-15" in entry.summary and entry.patient_id


def test_a_later_file_adds_a_transition_and_ends_the_previous_row(session, examples):
    examples()
    report = run(session, "enrollments", enrollments("PAT-001,HF,HF-2,2026-06-01,"))
    assert (report.created, report.updated, report.unchanged) == (1, 0, 0)
    assert timeline(session, "PAT-001")[-2:] == [
        (date(2026, 3, 15), date(2026, 5, 31), "HF-3", "two admissions in six months"),
        (date(2026, 6, 1), None, "HF-2", None),
    ]


def test_a_file_without_the_reason_column_keeps_the_reasons(session, examples):
    examples()
    content = "patient_external_id;program_code;stratum_code;effective_date\n" \
              "PAT-001;HF;HF-2;01/09/2025\n"
    report = run(session, "enrollments", content)
    assert (report.updated, report.unchanged) == (0, 1)
    assert timeline(session, "PAT-001")[0][3] == "NYHA II after first admission"


def test_an_exit_changed_back_keeps_the_stored_row_when_refused(session, examples):
    examples()
    # PAT-004: HF-3 from 2025-06-01, exit from 2026-02-10. Turning the first row into an exit
    # leaves an exit with nothing to end: refused, and nothing moves.
    report = run(session, "enrollments", enrollments("PAT-004,HF,exit,2025-06-01,"))
    assert messages(report) == [
        "line 2, column stratum_code: The patient is not enrolled in this program."]
    assert timeline(session, "PAT-004") == [
        (date(2025, 6, 1), date(2026, 2, 9), "HF-3", None),
        (date(2026, 2, 10), None, "exit", "deceased")]
