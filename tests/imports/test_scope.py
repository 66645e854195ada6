"""Case managers import only rows of their own territory; administrators every territory."""

from sqlalchemy import select

from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from tests import factories
from tests.imports.conftest import example, messages, run


def douaisis() -> int:
    return factories.territory("DOUAISIS").id


def test_rows_of_another_territory_are_refused_naming_territory_code(session):
    report = run(session, "providers", example("providers"), territory_id=douaisis())
    assert report.status == "rejected"
    assert messages(report) == [
        "line 7, column territory_code: You may import only rows of your own territory."]
    assert session.scalar(select(Provider.id)) is None


def test_skip_invalid_imports_the_rows_of_their_territory(session):
    run(session, "providers", example("providers"))
    report = run(session, "patients", example("patients"), territory_id=douaisis(),
                 skip_invalid=True)
    assert (report.created, report.skipped) == (3, 1)
    assert messages(report) == [
        "line 5, column territory_code: You may import only rows of your own territory."]
    assert session.scalar(select(Patient.id).where(Patient.external_id == "PAT-004")) is None


def test_records_of_another_territory_cannot_be_changed_or_reached(session, examples):
    examples()
    cornouaille = factories.territory("CORNOUAILLE").id
    moved = "PAT-001;;DUPONT;Jacques;1948-03-14;M;DOUAISIS\n"
    report = run(session, "patients", "external_id;nir;birth_name;first_names;birth_date;sex;"
                 "territory_code\n" + moved, territory_id=cornouaille)
    assert messages(report) == [
        "line 2, column external_id: This external_id is a record of another territory: ask "
        "an administrator.",
        "line 2, column territory_code: You may import only rows of your own territory."]
    report = run(session, "enrollments", "patient_external_id,program_code,stratum_code,"
                 "effective_date\nPAT-001,HF,HF-1,2026-06-01\nPAT-004,HF,HF-1,2025-01-01\n",
                 territory_id=cornouaille)
    assert messages(report) == [
        "line 2, column patient_external_id: No patient you may import for has the "
        "external_id “PAT-001”."]
    assert report.created == 1


def test_a_case_manager_without_territory_imports_nothing(session):
    report = run(session, "providers", example("providers"), territory_id=0)
    assert report.error_count == 6
