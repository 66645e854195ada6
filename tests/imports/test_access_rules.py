"""The import scope through the upload page, so that it holds wherever the rule lives: a case
manager imports only rows of their own territory (nothing at all without one), an
administrator every territory; each reads their own reports."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coordinator.imports.models import ImportReport
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling.models import Appointment
from coordinator.strata.models import StratumAssignment
from tests.imports.conftest import example, run, upload

pytestmark = pytest.mark.usefixtures("inline_imports")

PATIENTS = "external_id,birth_name,first_names,birth_date,sex,territory_code\n"
PROVIDERS = "external_id,kind,name,territory_code\n"


def last_report(session) -> ImportReport:
    session.expire_all()
    return session.scalars(select(ImportReport).order_by(ImportReport.id.desc())).first()


def columns(report) -> list[tuple[int, str]]:
    return [(error["line"], error["column"]) for error in report.errors]


def count(session, model, **criteria) -> int:
    return session.scalar(select(func.count()).select_from(model).filter_by(**criteria))


def external_ids(session, model) -> set[str]:
    session.expire_all()
    return set(session.scalars(select(model.external_id)))


@pytest.fixture
def cornouaille_patient(session):
    """PAT-C1, a patient of CORNOUAILLE, with a provider of theirs (imported by the system)."""
    run(session, "providers", PROVIDERS + "PRV-C1,nurse,Infirmier Kerlaz,CORNOUAILLE\n"
        "PRV-D1,nurse,Infirmière Douai,DOUAISIS\n")
    run(session, "patients", PATIENTS + "PAT-C1,KERLAZ,Yann,1940-01-02,M,CORNOUAILLE\n"
        "PAT-D1,DOUAI,Anne,1941-02-03,F,DOUAISIS\n")
    return session.scalar(select(Patient).where(Patient.external_id == "PAT-C1"))


def test_a_case_manager_imports_patients_of_their_territory(client, logged_in, case_manager,
                                                            session):
    logged_in(case_manager)
    assert upload(client, "patients", (
        PATIENTS + "P-1,MARTIN,Louise,1950-01-01,F,DOUAISIS\n").encode()).status_code == 302
    assert last_report(session).status == "succeeded"
    assert external_ids(session, Patient) == {"P-1"}


def test_a_case_manager_cannot_import_patients_into_another_territory(client, logged_in,
                                                                      case_manager, session):
    logged_in(case_manager)
    content = (PATIENTS + "P-1,MARTIN,Louise,1950-01-01,F,DOUAISIS\n"
               "P-2,LE GALL,Yves,1950-01-01,M,CORNOUAILLE\n").encode()
    upload(client, "patients", content)
    report = last_report(session)
    assert (report.status, columns(report)) == ("rejected", [(3, "territory_code")])
    assert external_ids(session, Patient) == set()  # all or nothing
    upload(client, "patients", content, skip_invalid=True)
    assert external_ids(session, Patient) == {"P-1"}


def test_a_case_manager_cannot_add_providers_to_another_territory(client, logged_in,
                                                                  case_manager, session):
    logged_in(case_manager)
    upload(client, "providers", example("providers"))
    report = last_report(session)
    assert (report.status, columns(report)) == ("rejected", [(7, "territory_code")])
    assert count(session, Provider) == 0


def test_a_case_manager_cannot_change_another_territorys_patient(client, logged_in,
                                                                 case_manager, session,
                                                                 cornouaille_patient):
    logged_in(case_manager)
    upload(client, "patients", (PATIENTS + "PAT-C1,KERLAZ,Yannick,1940-01-02,M,DOUAISIS\n")
           .encode())
    report = last_report(session)
    assert report.status == "rejected"
    assert columns(report) == [(2, "external_id")]
    session.expire_all()
    assert (cornouaille_patient.first_names, cornouaille_patient.territory.code) == (
        "Yann", "CORNOUAILLE")


def test_a_case_manager_cannot_take_over_another_territorys_provider(client, logged_in,
                                                                    case_manager, session,
                                                                    cornouaille_patient):
    logged_in(case_manager)
    upload(client, "providers", (PROVIDERS + "PRV-C1,nurse,Infirmier Douai,DOUAISIS\n")
           .encode())
    report = last_report(session)
    assert (report.status, columns(report)) == ("rejected", [(2, "external_id")])
    session.expire_all()
    provider = session.scalar(select(Provider).where(Provider.external_id == "PRV-C1"))
    assert (provider.name, provider.territory.code) == ("Infirmier Kerlaz", "CORNOUAILLE")


def test_a_case_manager_cannot_enroll_or_book_for_another_territorys_patient(
        client, logged_in, case_manager, session, cornouaille_patient):
    logged_in(case_manager)
    upload(client, "enrollments", b"patient_external_id,program_code,stratum_code,"
           b"effective_date\nPAT-C1,HF,HF-1,2026-01-05\n")
    report = last_report(session)
    assert (report.status, columns(report)) == ("rejected", [(2, "patient_external_id")])
    assert count(session, StratumAssignment, patient_id=cornouaille_patient.id) == 0
    upload(client, "appointments", b"external_id,patient_external_id,provider_external_id,"
           b"starts_at\nA-1,PAT-C1,PRV-C1,2026-01-10T09:00\n")
    report = last_report(session)
    assert (report.status, columns(report)) == ("rejected", [(2, "patient_external_id")])
    assert count(session, Appointment) == 0
    upload(client, "appointments", b"external_id,patient_external_id,provider_external_id,"
           b"starts_at\nA-2,PAT-D1,PRV-D1,2026-01-10T09:00\n")
    assert last_report(session).status == "succeeded"
    assert external_ids(session, Appointment) == {"A-2"}


def test_a_case_manager_cannot_take_over_another_territorys_appointment(
        client, logged_in, case_manager, session, cornouaille_patient):
    header = "external_id,patient_external_id,provider_external_id,starts_at\n"
    run(session, "appointments", header + "A-1,PAT-C1,PRV-C1,2026-01-10T09:00\n")
    logged_in(case_manager)
    upload(client, "appointments", (header + "A-1,PAT-D1,PRV-D1,2026-01-12T09:00\n").encode())
    report = last_report(session)
    assert (report.status, columns(report)) == ("rejected", [(2, "external_id")])
    session.expire_all()
    [appointment] = session.scalars(select(Appointment)).all()
    assert (appointment.external_id, appointment.patient_id) == ("A-1", cornouaille_patient.id)


def test_a_case_manager_without_territory_imports_nothing(client, logged_in, make_user,
                                                         session):
    user = make_user(role="case_manager")
    user.territory = None  # (the factory gives case managers one)
    session.commit()
    logged_in(user)
    for kind, content in (("providers", PROVIDERS + "X-1,gp,Dr X,DOUAISIS\n"),
                          ("patients", PATIENTS + "P-1,MARTIN,Louise,1950-01-01,F,DOUAISIS\n")):
        upload(client, kind, content.encode())
        report = last_report(session)
        assert (report.kind, report.status, columns(report)) == (
            kind, "rejected", [(2, "territory_code")])
    assert count(session, Provider) == 0 and count(session, Patient) == 0


def test_an_administrator_imports_every_territory(client, logged_in, admin, session):
    logged_in(admin)
    upload(client, "providers", example("providers"))
    assert last_report(session).status == "succeeded"
    assert {p.territory.code for p in session.scalars(select(Provider))} == {
        "DOUAISIS", "CORNOUAILLE"}


def test_each_case_manager_reads_only_their_own_reports(client, logged_in, make_user, admin,
                                                        session):
    colleague = make_user(role="case_manager", territory_code="DOUAISIS")
    logged_in(colleague)
    upload(client, "providers", (PROVIDERS + "X-1,gp,Dr X,DOUAISIS\n").encode(),
           file_name="theirs.csv")
    theirs = last_report(session)
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    logged_in(make_user(role="case_manager", territory_code="DOUAISIS"))
    upload(client, "providers", (PROVIDERS + "X-2,gp,Dr Y,DOUAISIS\n").encode(),
           file_name="mine.csv")
    mine = last_report(session)
    listing = client.get("/imports/").get_data(as_text=True)
    assert "mine.csv" in listing and "theirs.csv" not in listing
    assert client.get(f"/imports/{mine.id}").status_code == 200
    assert client.get(f"/imports/{theirs.id}").status_code == 404
    assert client.get(f"/imports/{theirs.id}/progress").status_code == 404
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    logged_in(admin)
    listing = client.get("/imports/").get_data(as_text=True)
    assert "mine.csv" in listing and "theirs.csv" in listing
    assert client.get(f"/imports/{theirs.id}").status_code == 200
