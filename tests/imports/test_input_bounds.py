"""The bounds of `core/bounds.py` in the import: a cell with a NUL character, dates out of range,
appointments before the patient's birth or too far ahead — each reported on its cell as
`line N, column C`, nothing written; history of any age is imported."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from coordinator.patients.models import Patient
from coordinator.scheduling.models import Appointment
from tests.imports.conftest import messages, run

PATIENTS = "external_id,nir,birth_name,first_names,birth_date,sex,territory_code,gp_external_id"
APPOINTMENTS = "external_id,patient_external_id,provider_external_id,starts_at,duration_minutes," \
               "kind,status"
RANGE = "Give a date between 1900-01-01 and 2100-12-31."


def csv(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_nul_in_a_cell_is_reported_on_its_cell(session):
    report = run(session, "patients", csv(PATIENTS, "A1,,DU\x00PONT,Jacques,1948-03-14,M,"
                                                    "DOUAISIS,",
                                          "A2,,MARTIN,Lu\x00cie,1950-01-01,F,DOUAISIS,"))
    assert report.status == "rejected"
    assert messages(report) == [
        "line 2, column birth_name: This text holds a character that cannot be stored (a NUL "
        "character or a lone surrogate): remove it.",
        "line 3, column first_names: This text holds a character that cannot be stored (a NUL "
        "character or a lone surrogate): remove it."]
    assert count(session, Patient) == 0


@pytest.mark.parametrize("cell", ["1899-12-31", "31/12/1899", "0001-01-01", "2101-01-01",
                                  "9999-12-31"])
def test_a_birth_date_out_of_range_is_reported_on_its_cell(session, cell):
    report = run(session, "patients", csv(PATIENTS, f"A1,,DUPONT,Jacques,{cell},M,DOUAISIS,"))
    assert messages(report) == [f"line 2, column birth_date: {RANGE}"]
    assert count(session, Patient) == 0


def test_the_range_edges_are_imported(session):
    report = run(session, "patients", csv(PATIENTS, "A1,,DUPONT,Jacques,1900-01-01,M,DOUAISIS,"))
    assert report.status == "succeeded", report.errors


@pytest.mark.parametrize("cell", ["0018-05-01T09:00", "0601-01-01T09:00", "9999-12-31T09:00",
                                  "1899-12-31T23:30+00:00"])
def test_an_appointment_out_of_range_is_reported_on_its_cell(session, examples, cell):
    examples("providers", "patients")
    report = run(session, "appointments", csv(APPOINTMENTS, f"A-1,PAT-001,PRV-001,{cell},,,"))
    assert messages(report) == [f"line 2, column starts_at: {RANGE}"]
    assert count(session, Appointment) == 0


def test_appointments_before_birth_or_too_far_ahead_are_refused(session, examples):
    examples("providers", "patients")  # PAT-001 was born on 1948-03-14
    far = datetime.now(UTC).date() + timedelta(days=3 * 366)
    report = run(session, "appointments", csv(
        APPOINTMENTS, "A-1,PAT-001,PRV-001,1948-03-13T09:00,,,attended",
        f"A-2,PAT-001,PRV-001,{far.isoformat()}T09:00,,,"))
    assert [m.split(": ")[0] for m in messages(report)] == ["line 2, column starts_at",
                                                          "line 3, column starts_at"]
    assert "born on 1948-03-14" in messages(report)[0]
    assert "at most 2 years ahead" in messages(report)[1]
    assert count(session, Appointment) == 0


def test_history_of_any_age_is_imported(session, examples):
    examples("providers", "patients")
    report = run(session, "appointments", csv(
        APPOINTMENTS, "A-1,PAT-001,PRV-001,1948-03-14T09:00,,,attended",
        "A-2,PAT-001,PRV-001,1961-07-01T09:00,,,no_show"))
    assert report.status == "succeeded", report.errors
    stored = session.scalars(select(Appointment).order_by(Appointment.external_id)).all()
    assert [a.starts_at.date() for a in stored] == [date(1948, 3, 14), date(1961, 7, 1)]
