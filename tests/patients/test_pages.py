"""Patient pages as case managers, administrators, GPs and councils use them."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.core.time import local_today
from coordinator.patients.models import Patient
from tests.factories import make_patient, make_provider, stratum, territory


def form_data(client, path, **values):
    data = {"csrf_token": client.csrf_token(path), "birth_name": "Dupont",
            "first_names": "Jacques Marie", "birth_date": "1948-03-14", "sex": "M",
            "nir": "148035917801213", "identity_status": "provisional",
            "territory_id": str(territory("DOUAISIS").id), "gp_id": "", "case_manager_id": ""}
    data.update(values)
    return data


def test_case_manager_registers_a_patient(client, logged_in, case_manager, session):
    logged_in(case_manager)
    gp = make_provider(kind="gp")
    response = client.post("/patients/new", data=form_data(
        client, "/patients/new", gp_id=str(gp.id), case_manager_id=str(case_manager.id),
        consent_share="y", consent_date="2026-01-05"))
    assert response.status_code == 302, response.get_data(as_text=True)
    patient = session.scalars(select(Patient)).one()
    assert patient.gp_id == gp.id and patient.consent_share
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "DUPONT Jacques Marie" in page
    reads = session.scalars(select(AuditEntry).where(AuditEntry.patient_id == patient.id,
                                                     AuditEntry.action == "read")).all()
    assert len(reads) == 1


def test_bad_nir_is_shown_on_its_field(client, logged_in, case_manager, session):
    logged_in(case_manager)
    response = client.post("/patients/new", data=form_data(client, "/patients/new",
                                                           nir="148035917801299"))
    assert response.status_code == 400
    assert 'id="nir-error"' in response.get_data(as_text=True)
    assert session.scalar(select(Patient)) is None


def test_duplicate_is_shown_before_saving_and_can_be_confirmed(client, logged_in,
                                                               case_manager, session):
    existing = make_patient(birth_name="Dupont", first_names="Jacques",
                            birth_date=date(1948, 3, 14), sex="M")
    logged_in(case_manager)
    response = client.post("/patients/new", data=form_data(client, "/patients/new", nir=""))
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'data-testid="duplicates"' in body and f"/patients/{existing.id}" in body
    assert session.scalar(select(Patient).where(Patient.id != existing.id)) is None
    response = client.post("/patients/new", data=form_data(client, "/patients/new", nir="",
                                                           confirm_duplicate="y"))
    assert response.status_code == 302


def test_a_duplicate_in_another_territory_is_said_to_exist_and_nothing_more(client, logged_in,
                                                                           case_manager,
                                                                           session):
    """#15, finding 7: the form listed another territory's record with its name and link."""
    hidden = make_patient(birth_name="Dupont", first_names="Jacques",
                          birth_date=date(1948, 3, 14), sex="M", territory_code="CORNOUAILLE")
    logged_in(case_manager)
    response = client.post("/patients/new", data=form_data(client, "/patients/new", nir=""),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'data-testid="duplicate-elsewhere"' in body
    assert f"/patients/{hidden.id}" not in body and "CORNOUAILLE" not in body
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.patient_id == hidden.id, AuditEntry.action == "read")) == 1


def test_concurrent_edit_gets_a_conflict_page_and_loses_nothing(client, logged_in,
                                                                case_manager, session):
    patient = make_patient(birth_name="Martin", first_names="Lucie")
    logged_in(case_manager)
    stale_version = patient.version
    patient.phone = "0102030405"  # someone else saves first
    session.commit()
    data = form_data(client, f"/patients/{patient.id}/edit", birth_name="Martin",
                     first_names="Lucie", birth_date="1950-06-15", sex="F", nir="",
                     city="Douai", version=str(stale_version))
    response = client.post(f"/patients/{patient.id}/edit", data=data)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Douai" in body and "0102030405" in body  # their input and the current record
    assert session.get(Patient, patient.id).city is None


def test_edit_saves_with_the_current_version(client, logged_in, case_manager, session):
    patient = make_patient(birth_name="Martin", first_names="Lucie")
    logged_in(case_manager)
    data = form_data(client, f"/patients/{patient.id}/edit", birth_name="Martin",
                     first_names="Lucie", birth_date="1950-06-15", sex="F", nir="",
                     city="Douai", version=str(patient.version))
    assert client.post(f"/patients/{patient.id}/edit", data=data).status_code == 302
    assert session.get(Patient, patient.id).city == "Douai"


def test_the_preferred_language_is_chosen_on_the_form_and_shown_on_the_record(
        client, logged_in, case_manager, session):
    logged_in(case_manager)
    form = client.get("/patients/new").get_data(as_text=True)
    assert '<option selected value="fr">Français</option>' in form  # French by default
    assert '<option value="en">English</option>' in form
    response = client.post("/patients/new", data=form_data(client, "/patients/new",
                                                           language="en"))
    assert response.status_code == 302, response.get_data(as_text=True)
    patient = session.scalars(select(Patient)).one()
    assert patient.language == "en"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="patient-language" lang="en">English</dd>' in page
    edit = client.get(f"/patients/{patient.id}/edit").get_data(as_text=True)
    assert '<option selected value="en">English</option>' in edit
    data = form_data(client, f"/patients/{patient.id}/edit", language="de",
                     version=str(patient.version))
    refused = client.post(f"/patients/{patient.id}/edit", data=data)
    assert refused.status_code == 400, refused.get_data(as_text=True)[-3000:]
    assert session.get(Patient, patient.id).language == "en"


def test_assign_a_stratum_and_see_the_timeline(client, logged_in, case_manager, session):
    patient = make_patient()
    logged_in(case_manager)
    path = f"/patients/{patient.id}"
    response = client.post(f"{path}/strata", data={
        "csrf_token": client.csrf_token(path), "stratum_id": stratum("HF-2").id,
        "effective_date": "2025-09-01", "reason": "NYHA II"})
    assert response.status_code == 302
    body = client.get(path).get_data(as_text=True)
    assert 'data-testid="timeline-HF"' in body and "NYHA II" in body
    response = client.post(f"{path}/strata", data={
        "csrf_token": client.csrf_token(path), "stratum_id": stratum("HF-3").id,
        "effective_date": "2025-08-01"})
    assert response.status_code == 400
    assert 'id="effective_date-error"' in response.get_data(as_text=True)


def test_withdrawing_consent(client, logged_in, case_manager, session):
    patient = make_patient(consent_share=True, consent_date=date(2025, 1, 1))
    logged_in(case_manager)
    path = f"/patients/{patient.id}"
    token = client.csrf_token(path)
    asked = client.post(f"{path}/consent", data={"csrf_token": token, "consent_share": "no"})
    assert asked.status_code == 303 and asked.location.endswith(f"{path}/consent/withdraw")
    assert session.get(Patient, patient.id).consent_share is True  # confirmed first
    client.post(f"{path}/consent/withdraw", data={
        "csrf_token": token, "effective_date": "2026-01-05", "expressed_as": "written",
        "confirm": "y"})
    assert session.get(Patient, patient.id).consent_share is False


def test_search_lists_matching_patients_and_is_audited(client, logged_in, case_manager,
                                                       session):
    make_patient(birth_name="Lefèvre", first_names="Odette")
    logged_in(case_manager)
    body = client.get("/patients/?name=lefevre").get_data(as_text=True)
    assert "LEFÈVRE Odette" in body
    assert session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "patient_search"))


@pytest.mark.parametrize("role", ["gp", "council"])
def test_gps_and_councils_cannot_list_or_open_patients(client, logged_in, make_user, role):
    patient = make_patient()
    logged_in(make_user(role=role))
    assert client.get("/patients/").status_code == 403
    assert client.get(f"/patients/{patient.id}").status_code == 403


def test_case_manager_of_another_territory_gets_404(client, logged_in, make_user):
    patient = make_patient(territory_code="CORNOUAILLE")
    logged_in(make_user(role="case_manager", territory_code="DOUAISIS"))
    assert client.get(f"/patients/{patient.id}").status_code == 404
    assert client.get(f"/patients/{patient.id}/edit").status_code == 404
    assert "Page not found" in client.get(f"/patients/{patient.id}",
                                          headers={"Accept-Language": "en"}).get_data(
        as_text=True)


def test_case_manager_home_shows_the_worklists(client, logged_in, case_manager):
    make_patient(case_manager_id=case_manager.id, birth_name="Caseload")
    make_patient(birth_name="Unstratified")
    logged_in(case_manager)
    body = client.get("/").get_data(as_text=True)
    assert 'data-testid="caseload"' in body and "CASELOAD" in body
    assert 'data-testid="unstratified"' in body and "UNSTRATIFIED" in body


def test_admin_merges_two_records(client, logged_in, admin, session):
    keep, dup = make_patient(), make_patient()
    logged_in(admin)
    assert client.get(f"/patients/merge?keep_id={keep.id}&merged_id={dup.id}").status_code == 200
    response = client.post("/patients/merge", data={
        "csrf_token": client.csrf_token("/patients/merge"), "keep_id": keep.id,
        "merged_id": dup.id, "confirm": "y"})
    assert response.status_code == 302
    assert session.get(Patient, dup.id).merged_into_id == keep.id


def test_case_managers_cannot_merge(client, logged_in, case_manager):
    logged_in(case_manager)
    assert client.get("/patients/merge").status_code == 403


def test_refused_stratum_form_still_audits_the_page_it_shows(client, logged_in, case_manager,
                                                             session):
    patient = make_patient()
    logged_in(case_manager)
    path = f"/patients/{patient.id}"
    client.post(f"{path}/strata", data={"csrf_token": client.csrf_token(path),
                                        "stratum_id": "", "effective_date": ""})
    reads = session.scalars(select(AuditEntry).where(AuditEntry.patient_id == patient.id,
                                                     AuditEntry.action == "read")).all()
    assert len(reads) == 2  # the page that gave the token, and the page with the errors


def test_a_nir_search_is_posted_and_opens_the_record(client, logged_in, case_manager, session):
    """#15, finding 10: the NIR was in the search's address (and so in the access logs)."""
    found = make_patient(nir="148035917801213")
    logged_in(case_manager)
    page = client.get("/patients/").get_data(as_text=True)
    assert 'data-testid="nir-search"' in page and 'name="nir"' in page
    token = client.csrf_token("/patients/")
    response = client.post("/patients/nir", data={"csrf_token": token,
                                                  "nir": "1 48 03 59 178 012 13"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/patients/{found.id}")
    nothing = client.post("/patients/nir", data={"csrf_token": token, "nir": "248035917801299"})
    assert nothing.status_code == 200 and "0 patient" in nothing.get_data(as_text=True)
    assert client.post("/patients/nir", data={"nir": "148035917801213"}).status_code == 400
    searches = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "patient_search").order_by(AuditEntry.id)).all()
    assert [entry.summary for entry in searches] == ["1 result(s)", "0 result(s)"]


def test_the_patient_form_shows_its_own_and_the_services_errors_at_once(client, logged_in,
                                                                        case_manager,
                                                                        session):
    """Issue #16: a blank first name (the form's check), a NIR of the other sex, advance
    directives dated without any and a consent dated tomorrow (the service's rules) in one
    answer; nothing saved."""
    logged_in(case_manager)
    response = client.post("/patients/new", data=form_data(
        client, "/patients/new", first_names="", sex="F", advance_directives_date="2026-01-02",
        consent_share="y", consent_date=(local_today() + timedelta(days=1)).isoformat()))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for field in ("first_names", "nir", "advance_directives_date", "consent_date"):
        assert f'id="{field}-error"' in page, field
    assert session.scalar(select(Patient)) is None


def test_a_consent_dated_tomorrow_is_named_with_the_records_other_problems(
        client, logged_in, case_manager, session):
    logged_in(case_manager)
    response = client.post("/patients/new", data=form_data(
        client, "/patients/new", sex="F", consent_share="y",
        consent_date=(local_today() + timedelta(days=1)).isoformat()))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="nir-error"' in page and 'id="consent_date-error"' in page
    assert session.scalar(select(Patient)) is None
