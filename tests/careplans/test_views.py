"""Care plan pages, as a case manager and a GP use them."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask_babel import format_date
from pypdf import PdfReader
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.careplans.models import CarePlan
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.work import worker
from tests import factories
from tests.htmlform import form_fields


@pytest.fixture
def team(make_user):
    """A case manager, a GP with an account, a nurse, and a consenting HF-3 patient."""
    from coordinator.patients import assignments

    manager = make_user(role="case_manager", territory_code="DOUAISIS",
                        full_name="Claire Martin")
    gp = factories.make_provider("gp", name="Dr Paul Lefebvre", phone="03 27 00 00 01")
    nurse = factories.make_provider("nurse", name="Infirmière Anne Roux", phone="06 00 00 00 02")
    gp_user = make_user(role="gp", provider_id=gp.id, territory_code=None,
                        full_name="Paul Lefebvre")
    patient = factories.make_patient(
        birth_name="Dubois", first_names="Jeanne Marie", gp_id=gp.id,
        case_manager_id=manager.id, consent_share=True, consent_date=local_today(),
        identity_status="qualified", nir=factories.make_nir("F", factories_date()),
        birth_date=factories_date(), trusted_person_name="Louis Dubois",
        trusted_person_relation="fils")
    assignments.assign_stratum(db.session, factories.case_plan_actor(manager), patient,
                               factories.stratum("HF-3"), local_today() - timedelta(days=10))
    db.session.commit()
    return {"manager": manager, "gp": gp, "nurse": nurse, "gp_user": gp_user,
            "patient": patient}


def factories_date():
    from datetime import date

    return date(1941, 3, 12)


def _create_from_suggestions(client, team) -> CarePlan:
    page = client.get(f"/careplans/new/{team['patient'].id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Contrôler les symptômes" in html  # a clinical goal of HF-3, suggested
    data = form_fields(html, "plan-form")
    # Assign the suggested follow-ups without a provider to the nurse.
    for name, value in list(data.items()):
        if name.endswith("-provider_id") and "-actions-" in name and value == "":
            prefix = name[: -len("provider_id")]
            if data.get(prefix + "description"):
                data[name] = str(team["nurse"].id)
    data["priorities"] = "Rester chez moi"
    response = client.post(f"/careplans/new/{team['patient'].id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return db.session.scalar(select(CarePlan).where(CarePlan.patient_id == team["patient"].id))


def _edit(client, plan, **changes):
    data = form_fields(client.get(f"/careplans/{plan.id}/edit").get_data(as_text=True),
                       "plan-form")
    data.update({key: str(value) for key, value in changes.items()})
    return client.post(f"/careplans/{plan.id}/edit", data=data), data


def _activate(client, plan):
    token = client.csrf_token(f"/careplans/{plan.id}")
    return client.post(f"/careplans/{plan.id}/activate",
                       data={"csrf_token": token, "version": plan.version})


def test_case_manager_creates_activates_edits_and_sees_the_diff(client, logged_in, team):
    logged_in(team["manager"])
    plan = _create_from_suggestions(client, team)
    assert plan.status == "draft"
    assert [g.description for g in plan.goals][:2] == ["Contrôler les symptômes",
                                                       "Réduire les réhospitalisations"]
    assert {m.provider_id for m in plan.team} == {team["gp"].id, team["nurse"].id}

    refused = _activate(client, plan)
    assert refused.status_code == 302
    assert db.session.get(CarePlan, plan.id).status == "draft"  # no agreement recorded yet

    response, _data = _edit(client, plan, agreement_on=local_today().isoformat(),
                            agreement_method="oral")
    assert response.status_code == 302
    assert _activate(client, plan).status_code == 302
    db.session.refresh(plan)
    assert plan.status == "active"

    # A change of content: a new version, edited as a draft (the active plan stays as it is).
    token = client.csrf_token(f"/careplans/{plan.id}")
    revised = client.post(f"/careplans/{plan.id}/revise",
                          data={"csrf_token": token, "version": plan.version})
    assert revised.status_code == 302
    plan = db.session.scalar(select(CarePlan).where(CarePlan.supersedes_id == plan.id))
    assert plan.status == "draft"
    _edit(client, plan, priorities="Rester chez moi et revoir mon jardin")
    response, _data = _edit(client, plan, review_date=(local_today() + timedelta(days=60))
                            .isoformat())
    assert response.status_code == 302
    db.session.refresh(plan)
    history = client.get(f"/careplans/{plan.id}/history?before=1&after={plan.version}")
    text = history.get_data(as_text=True)
    assert history.status_code == 200
    assert "<del>Rester chez moi</del>" in text
    assert "<ins>Rester chez moi et revoir mon jardin</ins>" in text
    assert f"<ins>{format_date(local_today() + timedelta(days=60), 'short')}</ins>" in text


def test_the_second_writer_gets_a_conflict_page_and_keeps_their_input(client, logged_in, team):
    plan = factories.make_care_plan(team["patient"], user=team["manager"])
    logged_in(team["manager"])
    first, _ = _edit(client, plan, priorities="Version du premier")
    assert first.status_code == 302
    stale = form_fields(client.get(f"/careplans/{plan.id}/edit").get_data(as_text=True),
                        "plan-form")
    stale["version"] = "1"  # read before the first save
    stale["priorities"] = "Version du second"
    response = client.post(f"/careplans/{plan.id}/edit", data=stale)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'data-testid="conflict"' in html
    assert "Version du second" in html  # kept in the form
    assert "Version du premier" in html  # the current plan, in the differences
    db.session.refresh(plan)
    assert plan.priorities == "Version du premier"


def test_gp_reads_comments_and_prints_the_shared_plan(client, logged_in, team):
    plan = factories.make_care_plan(team["patient"], user=team["manager"], status="active")
    logged_in(team["gp_user"])
    home = client.get("/").get_data(as_text=True)
    assert team["patient"].display_name in home
    page = client.get(f"/careplans/{plan.id}")
    assert page.status_code == 200
    assert 'data-testid="edit-plan"' not in page.get_data(as_text=True)
    token = client.csrf_token(f"/careplans/{plan.id}")
    response = client.post(f"/careplans/{plan.id}/comments",
                           data={"csrf_token": token, "body": "Bilan sanguin à prévoir"})
    assert response.status_code == 302
    assert "Bilan sanguin à prévoir" in client.get(f"/careplans/{plan.id}").get_data(
        as_text=True)
    assert client.get(f"/careplans/{plan.id}/edit").status_code == 403
    assert client.get(f"/careplans/{plan.id}/history").status_code == 403

    pdf = client.get(f"/careplans/{plan.id}/summary.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "DUBOIS Jeanne Marie" in text
    assert team["patient"].nir in text  # qualified identity: the NIR is printed
    assert "Dr Paul Lefebvre" in text and "03 27 00 00 01" in text
    assert "Rester à domicile" in text  # the patient's priorities
    assert "Stabiliser le poids" in text
    assert "Louis Dubois" in text
    stamp = reader.pages[0].extract_text().splitlines()[-1]
    assert "Imprimé le" in stamp and stamp.endswith("par Paul Lefebvre")
    assert f"1 / {len(reader.pages)}" in text
    prints = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "print", AuditEntry.entity_id == str(plan.id))).all()
    assert len(prints) == 1


def test_gp_gets_404_for_other_patients_and_withdrawn_consent(client, logged_in, team,
                                                              make_user):
    from coordinator.patients import services as patient_services

    plan = factories.make_care_plan(team["patient"], user=team["manager"], status="active")
    other_gp = factories.make_provider("gp")
    other_patient = factories.make_patient(gp_id=other_gp.id, consent_share=True)
    other_plan = factories.make_care_plan(other_patient, status="active")
    logged_in(team["gp_user"])
    assert client.get(f"/careplans/{other_plan.id}").status_code == 404
    assert client.get(f"/careplans/{other_plan.id}/summary.pdf").status_code == 404
    patient_services.record_consent(db.session, factories.case_plan_actor(team["manager"]),
                                    team["patient"], False, expressed_as="oral")
    db.session.commit()
    assert client.get(f"/careplans/{plan.id}").status_code == 404
    assert team["patient"].display_name not in client.get("/").get_data(as_text=True)


def test_council_gets_no_plan(client, logged_in, team, make_user):
    plan = factories.make_care_plan(team["patient"], user=team["manager"], status="active")
    logged_in(make_user(role="council", territory_code="DOUAISIS"))
    assert client.get(f"/careplans/{plan.id}").status_code == 403
    assert client.get("/careplans/").status_code == 403
    assert client.get(f"/careplans/{plan.id}/summary.pdf").status_code == 403


def test_overdue_review_shows_on_the_worklist(client, logged_in, team):
    plan = factories.make_care_plan(team["patient"], user=team["manager"], status="active",
                                    plan_date=local_today() - timedelta(days=200))
    plan.review_date = local_today() - timedelta(days=1)  # the plan's review date passed
    db.session.commit()
    logged_in(team["manager"])
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="reviews-due"' in html
    assert f"/careplans/{plan.id}" in html


def test_print_preview_and_pdf_come_from_one_template(client, logged_in, team):
    plan = factories.make_care_plan(team["patient"], user=team["manager"], status="active")
    logged_in(team["manager"])
    preview = client.get(f"/careplans/{plan.id}/print").get_data(as_text=True)
    assert 'data-testid="print-stamp"' in preview and "Claire Martin" in preview
    first = client.get(f"/careplans/{plan.id}/summary.pdf")
    again = client.get(f"/careplans/{plan.id}/summary.pdf")
    prints = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "print", AuditEntry.entity_id == str(plan.id))
        .order_by(AuditEntry.id)).all()
    assert prints[0].summary.startswith("preview")  # printing from the browser is a print
    assert [e.details["cached"] for e in prints[1:]] == [False, True]
    assert first.data != b"" and again.status_code == 200


def test_english_reader_gets_an_english_summary(client, logged_in, team):
    plan = factories.make_care_plan(team["patient"], user=team["manager"], status="active")
    logged_in(team["manager"])
    client.post("/language", data={"csrf_token": client.csrf_token("/"), "locale": "en"})
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(
        client.get(f"/careplans/{plan.id}/summary.pdf").data)).pages)
    assert "Confidential — medical information" in text
    assert "Care team" in text and "Printed on" in text


def test_batch_print_of_the_caseload(client, logged_in, team):
    plans = [factories.make_care_plan(team["patient"], user=team["manager"], status="active")]
    for _i in range(2):
        patient = factories.make_patient(case_manager_id=team["manager"].id, gp_id=team["gp"].id)
        plans.append(factories.make_care_plan(patient, user=team["manager"], status="active"))

    logged_in(team["manager"])
    token = client.csrf_token("/careplans/")
    response = client.post("/careplans/print", data={"csrf_token": token, "scope": "caseload"})
    assert response.status_code == 302
    assert [info.kind for info in worker.drain(client.application)] == ["print_batch"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="batch-done"' in page
    pdf = client.get(response.headers["Location"] + "/plans.pdf")
    reader = PdfReader(io.BytesIO(pdf.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    for plan in plans:
        assert plan.patient.display_name in text


def test_the_summary_lists_the_next_90_days_appointments(client, logged_in, team):
    from datetime import datetime

    from coordinator.scheduling import services as scheduling

    plan = factories.make_care_plan(team["patient"], user=team["manager"], status="active")
    actor = factories.case_plan_actor(team["manager"])
    soon = datetime.combine(local_today() + timedelta(days=10), datetime.min.time())
    scheduling.create_appointment(db.session, actor, {
        "patient_id": team["patient"].id, "provider_id": team["nurse"].id,
        "starts_at": soon.replace(hour=10), "place": "Domicile"}, allow_non_working_day=True)
    scheduling.create_appointment(db.session, actor, {
        "patient_id": team["patient"].id, "provider_id": team["nurse"].id,
        "starts_at": soon.replace(hour=10) + timedelta(days=120)},  # beyond 90 days
        allow_non_working_day=True)
    db.session.commit()
    logged_in(team["manager"])
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(
        client.get(f"/careplans/{plan.id}/summary.pdf").data)).pages)
    assert "Infirmière Anne Roux" in text and "Domicile" in text
    assert format_date(soon.date(), "short") in text
    assert format_date((soon + timedelta(days=120)).date(), "short") not in text


def test_a_goal_is_removed_with_its_tick_box_and_activation_errors_name_the_row(
        client, logged_in, team):
    plan = factories.make_care_plan(team["patient"], user=team["manager"], goals=[
        {"description": "Garder", "actions": [{"description": "Visite infirmière",
                                               "responsible": "provider"}]},
        {"description": "Enlever", "actions": []}],
        agreement_on=local_today(), agreement_method="oral")
    logged_in(team["manager"])
    response, _data = _edit(client, plan, **{"goals-1-remove": "y"})
    assert response.status_code == 302
    db.session.refresh(plan)
    assert [goal.description for goal in plan.goals] == ["Garder"]
    _activate(client, plan)
    page = client.get(f"/careplans/{plan.id}").get_data(as_text=True)
    # the action without anyone responsible, named by its row
    assert "Choisissez le professionnel de l’action 1 de l’objectif 1" in page
    assert db.session.get(CarePlan, plan.id).status == "draft"


def test_after_a_conflict_the_user_saves_their_version_even_if_a_goal_was_removed(
        client, logged_in, team):
    from coordinator.careplans import services as plan_services

    plan = factories.make_care_plan(team["patient"], user=team["manager"], goals=[
        {"description": "Premier", "actions": []}, {"description": "Second", "actions": []}])
    logged_in(team["manager"])
    mine = form_fields(client.get(f"/careplans/{plan.id}/edit").get_data(as_text=True),
                       "plan-form")
    first = {"id": plan.goals[0].id, "description": "Premier"}
    plan_services.save_plan(db.session, factories.case_plan_actor(team["manager"]), plan,
                            {"goals": [first]}, plan.version)  # someone removed "Second"
    db.session.commit()
    mine["goals-1-description"] = "Second, précisé"
    conflict = client.post(f"/careplans/{plan.id}/edit", data=mine)
    assert conflict.status_code == 409
    again = form_fields(conflict.get_data(as_text=True), "plan-form")
    assert client.post(f"/careplans/{plan.id}/edit", data=again).status_code == 302
    db.session.refresh(plan)
    assert [goal.description for goal in plan.goals] == ["Premier", "Second, précisé"]
