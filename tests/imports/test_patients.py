"""The patients format: the registry's identity rules, identity vigilance, consent history,
updates by external_id."""

from datetime import date

from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.patients.models import ConsentEvent, Patient
from tests import factories
from tests.imports.conftest import example, messages, run

HEADER = "external_id,nir,birth_name,first_names,birth_date,sex,territory_code,gp_external_id"


def patients(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def by_external_id(session, external_id: str) -> Patient:
    session.expire_all()
    return session.scalar(select(Patient).where(Patient.external_id == external_id))


def test_an_invalid_nir_is_a_row_error(session, examples):
    examples("providers")
    report = run(session, "patients", patients(
        "A1,148035917801299,DUPONT,Jacques,1948-03-14,M,DOUAISIS,PRV-001",
        "A2,14803591780,MARTIN,Paul,1948-03-14,M,DOUAISIS,",
        "A3,248035917801213,DURAND,Anne,1948-03-14,F,DOUAISIS,"))
    assert report.status == "rejected"
    assert messages(report) == [
        "line 2, column nir: The NIR is invalid: its key does not match.",
        "line 3, column nir: A NIR has 15 characters (13 digits and a 2-digit key).",
        "line 4, column nir: The NIR is invalid: its key does not match.",
    ]


def test_identity_rules_of_the_registry(session, examples):
    examples("providers")
    report = run(session, "patients", patients(
        "A1,,DUPONT,Jacques,2099-01-01,X,DOUAISIS,",
        "A2,,DUPONT,Jacques,1948-03-14,M,DOUAISIS,PRV-002",
        "A3,,DUPONT,Jacques,1948-03-14,M,DOUAISIS,PRV-404"))
    assert messages(report) == [
        "line 2, column birth_date: The birth date cannot be in the future.",
        "line 2, column sex: The sex must be F, M or U.",
        "line 3, column gp_external_id: The GP must be a provider of kind GP.",
        "line 4, column gp_external_id: Unknown reference “PRV-404”: no record with this "
        "identifier has been imported (import its file first).",
    ]


def test_a_likely_duplicate_of_a_registered_patient_is_refused(session, examples):
    examples("providers")
    registered = factories.make_patient(birth_name="Lefèbvre", first_names="Odette Marie",
                                        birth_date=date(1939, 11, 2), sex="F",
                                        nir="239116204123075")
    report = run(session, "patients", patients(
        "N1,239116204123075,AUTRE,Nom,1939-11-02,F,DOUAISIS,",
        "N2,,LEFEBVRE,Odette,02/11/1939,F,DOUAISIS,"))
    assert messages(report) == [
        f"line 2, column nir: Likely duplicate of patient #{registered.id} (same NIR).",
        f"line 3, column birth_name: Likely duplicate of patient #{registered.id} (same birth "
        "name, first name and birth date).",
    ]
    assert session.scalar(select(func.count()).select_from(Patient)) == 1


def test_a_likely_duplicate_within_the_file_is_refused_even_across_batches(session, examples):
    examples("providers")
    report = run(session, "patients", patients(
        "N1,,MARTIN,Paul,1950-01-01,M,DOUAISIS,",
        "N2,,DURAND,Anne,1950-01-01,F,DOUAISIS,",
        "N3,,Martin,paul andré,01/01/1950,M,DOUAISIS,",
        "N4,,DURAND,Anne,1950-01-01,F,DOUAISIS,"), batch_size=3)
    first = session.scalar(select(Patient.id).where(Patient.external_id == "N1"))
    assert first is None  # all or nothing
    assert messages(report) == [
        "line 4, column birth_name: Likely duplicate of the patient on line 2 (same birth name, "
        "first name and birth date).",
        "line 5, column birth_name: Likely duplicate of patient #"
        f"{report_patient_id(session, report)} (same birth name, first name and birth date).",
    ]


def report_patient_id(session, report) -> int:
    """The id N2 had inside the rolled-back import: the error names it."""
    return int(report.errors[1]["message"].split("#")[1].split(" ")[0])


def test_accept_duplicates_creates_them_with_a_warning(session, examples):
    examples("providers")
    registered = factories.make_patient(birth_name="MARTIN", first_names="Paul",
                                        birth_date=date(1950, 1, 1), sex="M")
    report = run(session, "patients", patients("N1,,MARTIN,Paul,1950-01-01,M,DOUAISIS,"),
                 accept_duplicates=True)
    assert (report.status, report.created) == ("succeeded", 1)
    assert report.warnings[0]["line"] == 2
    assert f"patient #{registered.id}" in report.warnings[0]["message"]
    assert "Imported as asked" in report.warnings[0]["message"]


def test_a_changed_row_updates_only_that_record_and_is_audited(session, examples):
    reports = examples("providers", "patients")
    before = by_external_id(session, "PAT-001")
    version, other_version = before.version, by_external_id(session, "PAT-002").version
    content = (example("patients").decode().replace("Jacques Marie", "Jacques Marius")
               .replace("PAT-001;148035917801213;DUPONT;;Jacques Marius;1948-03-14;M;59178;"
                        "DOUAISIS;PRV-001;yes;",
                        "PAT-001;148035917801213;DUPONT;;Jacques Marius;1948-03-14;M;59178;"
                        "DOUAISIS;PRV-001;no;"))
    report = run(session, "patients", content)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    after = by_external_id(session, "PAT-001")
    assert (after.first_names, after.first_name_folded, after.consent_share) == (
        "Jacques Marius", "JACQUES", False)
    assert after.version == version + 1
    assert by_external_id(session, "PAT-002").version == other_version
    events = session.execute(select(ConsentEvent.consent_share)
                             .where(ConsentEvent.patient_id == after.id)
                             .order_by(ConsentEvent.id)).scalars().all()
    assert events == [True, False]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "update",
                                                    AuditEntry.entity_type == "patient"))
    assert entry.patient_id == after.id and entry.details["import_report_id"] == report.id
    assert set(entry.details["fields"]) == {"first_names", "consent_share"}
    assert reports["patients"].id != report.id


def test_columns_absent_from_the_file_are_left_as_they_are(session, examples):
    examples("providers", "patients")
    patient = by_external_id(session, "PAT-003")
    patient.phone, patient.case_manager_id = "06 00 00 00 00", None
    session.commit()
    report = run(session, "patients", patients(
        "PAT-003,,NGUYEN,Thi Lan,1961-07-30,F,DOUAISIS,PRV-001"))
    assert (report.updated, report.unchanged) == (0, 1)
    assert by_external_id(session, "PAT-003").phone == "06 00 00 00 00"
    report = run(session, "patients", patients(
        "PAT-003,,NGUYEN,Thi Lan,1961-07-30,F,DOUAISIS,PRV-001,",
        header=HEADER + ",phone"))
    assert report.updated == 1 and by_external_id(session, "PAT-003").phone is None


def test_a_qualified_identity_keeps_its_nir(session, examples):
    examples("providers", "patients")
    patient = by_external_id(session, "PAT-001")
    patient.identity_status = "qualified"
    session.commit()
    report = run(session, "patients", patients("PAT-001,,DUPONT,Jacques,1948-03-14,M,DOUAISIS,"))
    assert messages(report) == ["line 2, column nir: A qualified identity needs its NIR."]


def test_a_merged_record_cannot_be_imported_again(session, examples):
    examples("providers", "patients")
    kept, merged = by_external_id(session, "PAT-002"), by_external_id(session, "PAT-003")
    merged.merged_into_id = kept.id
    session.commit()
    report = run(session, "patients", patients(
        "PAT-003,,NGUYEN,Thi Lan,1961-07-30,F,DOUAISIS,PRV-001"))
    assert messages(report) == [f"line 2, column external_id: This record was merged into "
                                f"patient #{kept.id}: it cannot be imported any more."]


def test_an_e_mail_with_a_line_break_is_refused_naming_the_column(session):
    """#15, finding 5: the import validates the address as the form does."""
    report = run(session, "patients", "\n".join((
        "external_id,birth_name,first_names,birth_date,sex,territory_code,email",
        'PAT-1,DUPONT,Jean,1950-01-01,M,DOUAISIS,"x@example.test\rBcc: all@example.test"',
        "PAT-2,MARTIN,Anne,1950-01-01,F,DOUAISIS,anne@example.org")))
    assert report.status == "rejected"
    assert [(error["line"], error["column"]) for error in report.errors] == [(2, "email")]


def test_a_duplicate_in_another_territory_is_said_to_exist_without_its_id(session, examples):
    """#15, finding 7: a case manager's import named another territory's record by its id."""
    examples("providers")
    hidden = factories.make_patient(birth_name="Lefèbvre", first_names="Odette Marie",
                                    birth_date=date(1939, 11, 2), sex="F",
                                    nir="239116204123075", territory_code="CORNOUAILLE")
    report = run(session, "patients", patients(
        "N1,239116204123075,AUTRE,Nom,1939-11-02,F,DOUAISIS,",
        "N2,,LEFEBVRE,Odette,02/11/1939,F,DOUAISIS,"),
        territory_id=factories.territory("DOUAISIS").id)
    said = messages(report)
    assert said == [
        "line 2, column nir: A matching record exists in another territory: ask an "
        "administrator (nothing else about it is shown).",
        "line 3, column birth_name: A matching record exists in another territory: ask an "
        "administrator (nothing else about it is shown).",
    ]
    assert not any(f"#{hidden.id}" in message for message in said)
    # the attempt is in that record's access log (the import itself wrote nothing)
    told = session.scalars(select(AuditEntry).where(AuditEntry.patient_id == hidden.id,
                                                    AuditEntry.action == "read")).all()
    assert [entry.entity_type for entry in told] == ["import_match_elsewhere"]
