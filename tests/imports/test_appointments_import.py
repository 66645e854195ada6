"""The appointments format: upsert by external_id, references by external id, Paris time across
the daylight-saving changes, the booking rules, outcomes along the lifecycle, no overlap check."""

from datetime import UTC, datetime

from sqlalchemy import func, select, update

from coordinator.audit.models import AuditEntry
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling.models import Appointment
from tests import factories
from tests.imports.conftest import messages, run, run_example

HEADER = "external_id,patient_external_id,provider_external_id,starts_at,duration_minutes," \
         "kind,status"


def appointments(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def stored(session) -> dict[str, Appointment]:
    session.expire_all()
    return {a.external_id: a for a in session.scalars(select(Appointment))}


def by_line(report) -> list[str]:
    """The errors as `line N, column C: message`, in line order (cells are read before the
    rows are checked; a row's own messages keep their order)."""
    return sorted(messages(report), key=lambda message: int(message.split(",")[0][5:]))


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Appointment))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_example_imports_with_outcomes(session, examples):
    examples("providers", "patients")
    report = run_example(session, "appointments")
    assert (report.status, report.rows_read, report.created, report.error_count) == (
        "succeeded", 5, 5, 0), report.errors
    rows = stored(session)
    first = rows["APT-001"]
    assert (first.starts_at, first.ends_at, first.kind, first.status) == (
        utc(2026, 3, 20, 8), utc(2026, 3, 20, 8, 30), "home_visit", "attended")
    assert first.patient.external_id == "PAT-001" and first.provider.external_id == "PRV-002"
    assert (first.outcome_recorded_by, first.created_by) == ("test", "test")
    assert first.outcome_recorded_at is not None
    assert rows["APT-002"].starts_at == utc(2026, 4, 2, 12, 30)  # summer time already
    assert rows["APT-003"].starts_at == utc(2026, 4, 10, 8)  # its own offset
    assert rows["APT-004"].status == "cancelled_patient"
    future = rows["APT-005"]  # an empty status is scheduled
    assert (future.status, future.outcome_recorded_at, future.duration_minutes) == (
        "scheduled", None, 45)
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "appointment")).all()
    assert len(entries) == 5 and all(entry.patient_id for entry in entries)
    assert f"import #{report.id}" in entries[0].summary


def test_importing_the_same_file_twice_changes_nothing(session, examples):
    examples("providers", "patients")
    run_example(session, "appointments")
    before = session.execute(select(Appointment.__table__).order_by(Appointment.id)).all()
    audited = session.scalar(select(func.count()).select_from(AuditEntry))
    again = run_example(session, "appointments")
    assert (again.status, again.created, again.updated, again.unchanged) == (
        "succeeded", 0, 0, 5)
    assert session.execute(select(Appointment.__table__).order_by(Appointment.id)).all() == before
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audited + 1


def test_bad_rows_name_their_line_and_column_and_nothing_is_written(session, examples):
    examples("providers", "patients")
    session.execute(update(Provider).where(Provider.external_id == "PRV-005")
                    .values(is_active=False))
    session.commit()
    report = run(session, "appointments", appointments(
        "A-1,PAT-999,PRV-001,2026-07-01T09:00,30,consultation,",
        "A-2,PAT-001,PRV-001,01/07/2026 09:00,30,consultation,",
        "A-3,PAT-001,PRV-001,2026-07-01T09:00,0,consultation,",
        "A-4,PAT-001,PRV-001,2026-07-01T09:00,30,visit,",
        "A-5,PAT-001,PRV-999,2026-07-01T09:00,30,,",
        "A-6,PAT-001,PRV-005,2026-07-01T09:00,721,,",
        "A-7,PAT-004,PRV-006,2026-02-11T09:00,,,",  # died on 2026-02-10
        "A-8,PAT-001,PRV-001,2026-03-29T02:30,,,",
        "A-9,PAT-001,PRV-001,2026-07-01T09:00,30,,done",
        "A-10,PAT-001,PRV-001,2026-07-01T09:00,,consultation,attended",
    ))
    assert (report.status, report.skipped) == ("rejected", 9)
    assert by_line(report) == [
        "line 2, column patient_external_id: No patient you may import for has the "
        "external_id “PAT-999”.",
        "line 3, column starts_at: “01/07/2026 09:00” is not a date-time: write "
        "YYYY-MM-DDTHH:MM, optionally with seconds and a UTC offset.",
        "line 4, column duration_minutes: An appointment lasts from 1 minute to 12 hours.",
        "line 5, column kind: “visit” is not one of: consultation, home_visit, "
        "teleconsultation, group_session.",
        "line 6, column provider_external_id: Unknown reference “PRV-999”: no record with "
        "this identifier has been imported (import its file first).",
        "line 7, column provider_external_id: This provider is inactive in the directory.",
        "line 7, column duration_minutes: An appointment lasts from 1 minute to 12 hours.",
        "line 8, column starts_at: The patient died on 2026-02-10: no appointment after "
        "that day.",
        "line 9, column starts_at: 2026-03-29T02:30 does not exist in Paris local time (the "
        "clocks go forward): give the UTC offset.",
        "line 10, column status: “done” is not one of: scheduled, attended, no_show, "
        "cancelled_patient, cancelled_provider.",
    ]
    assert count(session) == 0


def test_skip_invalid_imports_the_valid_rows(session, examples):
    examples("providers", "patients")
    report = run(session, "appointments", appointments(
        "A-1,PAT-999,PRV-001,2026-07-01T09:00,30,,",
        "A-2,PAT-001,PRV-001,2026-07-01T09:00,30,,"), skip_invalid=True)
    assert (report.status, report.created, report.skipped) == ("succeeded", 1, 1)
    assert list(stored(session)) == ["A-2"]


def test_a_time_without_offset_is_paris_time_summer_and_winter(session, examples):
    examples("providers", "patients")
    report = run(session, "appointments", appointments(
        "S,PAT-001,PRV-001,2026-07-01T09:00,,,",
        "W,PAT-001,PRV-001,2026-01-15T09:00,,,",
        "R,PAT-001,PRV-001,2026-10-25T02:30,,,",  # repeated hour: the first occurrence
        "Z,PAT-001,PRV-001,2026-10-25T02:30:00+01:00,,,",
        "U,PAT-001,PRV-001,2026-01-15T12:00Z,,,"))
    assert report.status == "succeeded", report.errors
    rows = stored(session)
    assert {key: row.starts_at for key, row in rows.items()} == {
        "S": utc(2026, 7, 1, 7), "W": utc(2026, 1, 15, 8), "R": utc(2026, 10, 25, 0, 30),
        "Z": utc(2026, 10, 25, 1, 30), "U": utc(2026, 1, 15, 12)}
    assert rows["S"].ends_at == utc(2026, 7, 1, 7, 30)


def test_overlaps_are_history_and_not_refused(session, examples):
    examples("providers", "patients")
    report = run(session, "appointments", appointments(
        "A-1,PAT-001,PRV-001,2026-07-01T09:00,60,,attended",
        "A-2,PAT-001,PRV-001,2026-07-01T09:15,30,,attended"))
    assert (report.status, report.created) == ("succeeded", 2), report.errors


def test_a_changed_row_updates_and_defaults_apply(session, examples):
    examples("providers", "patients")
    run(session, "appointments", appointments("A-1,PAT-001,PRV-001,2026-07-01T09:00,45,,"))
    appointment = stored(session)["A-1"]
    version = appointment.version
    report = run(session, "appointments", appointments(
        "A-1,PAT-001,PRV-002,2026-07-01T10:00,,home_visit,"))
    assert (report.status, report.updated) == ("succeeded", 1), report.errors
    appointment = stored(session)["A-1"]
    assert (appointment.provider.external_id, appointment.starts_at, appointment.duration_minutes,
            appointment.ends_at, appointment.kind, appointment.version) == (
        "PRV-002", utc(2026, 7, 1, 8), 30, utc(2026, 7, 1, 8, 30), "home_visit", version + 1)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "update",
                                                     AuditEntry.entity_type == "appointment")
                            ).one()
    assert entry.details["fields"] == ["provider_id", "starts_at", "ends_at", "duration_minutes",
                                       "kind"]


def test_without_the_duration_column_an_appointment_keeps_its_length(session, examples):
    examples("providers", "patients")
    run(session, "appointments", appointments("A-1,PAT-001,PRV-001,2026-07-01T09:00,45,,"))
    report = run(session, "appointments", "external_id,patient_external_id,"
                 "provider_external_id,starts_at\nA-1,PAT-001,PRV-001,2026-07-01T10:00\n"
                 "A-2,PAT-001,PRV-001,2026-07-02T10:00\n")
    assert (report.status, report.created, report.updated) == ("succeeded", 1, 1)
    rows = stored(session)
    assert (rows["A-1"].duration_minutes, rows["A-1"].ends_at) == (45, utc(2026, 7, 1, 8, 45))
    assert (rows["A-2"].duration_minutes, rows["A-2"].kind, rows["A-2"].status) == (
        30, "consultation", "scheduled")


def test_a_status_changes_along_the_lifecycle_only(session, examples):
    examples("providers", "patients")
    run(session, "appointments", appointments(
        "A-1,PAT-001,PRV-001,2026-07-01T09:00,,,",
        "A-2,PAT-001,PRV-001,2026-07-02T09:00,,,attended"))
    report = run(session, "appointments", appointments(
        "A-1,PAT-001,PRV-001,2026-07-01T09:00,,,no_show",
        "A-2,PAT-001,PRV-001,2026-07-02T09:00,,,no_show"))
    assert report.status == "rejected"
    assert messages(report) == [
        "line 3, column status: The appointment is attended: it cannot become no_show (an "
        "outcome is recorded once, on a scheduled appointment)."]
    assert {key: row.status for key, row in stored(session).items()} == {
        "A-1": "scheduled", "A-2": "attended"}
    back = run(session, "appointments", appointments(
        "A-2,PAT-001,PRV-001,2026-07-02T09:00,,,"))
    assert back.status == "rejected" and back.errors[0]["column"] == "status"

    report = run(session, "appointments", appointments(
        "A-1,PAT-001,PRV-001,2026-07-01T09:00,,,no_show"))
    assert (report.status, report.updated) == ("succeeded", 1), report.errors
    recorded = stored(session)["A-1"]
    assert (recorded.status, recorded.outcome_recorded_by) == ("no_show", "test")
    assert recorded.outcome_recorded_at is not None


def test_a_case_manager_imports_for_their_territory_only(session, examples):
    examples("providers", "patients")
    cornouaille = factories.territory("CORNOUAILLE").id
    douaisis = factories.territory("DOUAISIS").id
    run(session, "appointments", appointments("A-1,PAT-004,PRV-006,2026-01-10T09:00,,,"))
    report = run(session, "appointments", appointments(
        "A-1,PAT-001,PRV-001,2026-01-10T09:00,,,",  # moves another territory's appointment
        "A-2,PAT-004,PRV-006,2026-01-11T09:00,,,"), territory_id=douaisis)
    assert by_line(report) == [
        "line 2, column external_id: This external_id is a record of another territory: ask "
        "an administrator.",
        "line 3, column patient_external_id: No patient you may import for has the "
        "external_id “PAT-004”.",
    ]
    mine = run(session, "appointments", appointments("A-1,PAT-004,PRV-006,2026-01-10T10:00,,,"),
               territory_id=cornouaille)
    assert (mine.status, mine.updated) == ("succeeded", 1)


def test_a_merged_patient_is_refused(session, examples):
    examples("providers", "patients")
    survivor = session.scalar(select(Patient).where(Patient.external_id == "PAT-002"))
    session.execute(update(Patient).where(Patient.external_id == "PAT-003")
                    .values(merged_into_id=survivor.id))
    session.commit()
    report = run(session, "appointments", appointments(
        "A-1,PAT-003,PRV-001,2026-07-01T09:00,,,"))
    assert messages(report) == [
        f"line 2, column patient_external_id: This patient was merged into patient "
        f"#{survivor.id}."]


def test_an_outcome_needs_a_started_appointment_and_history_is_not_rewritten(session,
                                                                              examples):
    examples("providers", "patients")
    report = run(session, "appointments", appointments(
        f"F-1,PAT-001,PRV-001,{datetime.now(UTC).year + 1}-07-01T09:00,,,attended"))
    assert report.status == "rejected"
    assert [e["column"] for e in report.errors] == ["status"]
    run(session, "appointments", appointments("P-1,PAT-001,PRV-001,2026-07-01T09:00,,,attended"))
    moved = run(session, "appointments", appointments(
        "P-1,PAT-001,PRV-001,2026-07-08T09:00,,,attended"))
    assert moved.status == "rejected" and moved.errors[0]["column"] == "starts_at"
    assert stored(session)["P-1"].starts_at == utc(2026, 7, 1, 7)


def test_another_territorys_provider_is_refused_as_by_the_booking_form(session, examples):
    """#15, finding 3: the import applies the booking form's rule (permissions.provider_serves)."""
    examples("providers", "patients")
    report = run(session, "appointments", appointments(
        "A-1,PAT-001,PRV-006,2027-01-11T09:00,,,"))  # a Douaisis patient, a Cornouaille GP
    assert report.status == "rejected"
    assert messages(report) == [
        "line 2, column provider_external_id: This provider works in another territory: "
        "choose one of the patient's territory."]
    assert session.scalar(select(func.count()).select_from(Appointment)) == 0
