"""Reference data in French and English (issue 16): the strata's suggested goals, each in a domain
of the assessment, the follow-up templates' labels, the indicators' labels and the criteria are
read in the reader's language (French when the English is empty), edited in both languages by
administrators, pre-filled with their domain in a new care plan, kept by the API in both
languages, and moved by the migration from the free text of the clinical goals."""

from __future__ import annotations

from datetime import timedelta

import flask_migrate
import pytest
from flask_babel import refresh
from sqlalchemy import select, text

from coordinator import create_app
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.metrics import services as metrics
from coordinator.metrics import targets
from coordinator.metrics.periods import Period
from coordinator.strata.models import StratumGoal, Territory
from coordinator.strata.services import load_reference_data
from tests import dbutil, factories
from tests.factories import program, stratum
from tests.htmlform import form_fields

FR = {"Accept-Language": "fr"}
EN = {"Accept-Language": "en"}


def section(body: str, testid: str) -> str:
    return body.split(f'data-testid="{testid}"')[1].split("</table>")[0].split("</ul>")[0]


# -- Reading ------------------------------------------------------------------------------------

def test_an_english_reader_reads_goals_templates_indicators_and_criteria_in_english(
        client, logged_in, case_manager):
    logged_in(case_manager)
    body = client.get("/programs/HF", headers=EN).get_data(as_text=True)
    goals = section(body, "goals-HF-3")
    assert "Control the symptoms" in goals and "End-of-life wishes" in goals
    assert "Psychological and cognitive" in goals and "Contrôler" not in goals
    template = section(body, "followup-HF-3")
    assert "Nurse home visit" in template and "Dietetic consultation" in template
    assert "Visite infirmière" not in template
    assert "Flu vaccination of people aged 65 and over" in body
    assert "NYHA III-IV or at least two hospitalisations in 6 months." in body
    assert "Vaccination antigrippale" not in body and "au moins deux hospitalisations" not in body
    index = client.get("/programs/", headers=EN).get_data(as_text=True)
    assert "Flu vaccination of people aged 65 and over" in index


def test_a_french_reader_reads_them_in_french(client, logged_in, case_manager):
    logged_in(case_manager)
    body = client.get("/programs/HF", headers=FR).get_data(as_text=True)
    goals = section(body, "goals-HF-3")
    assert "Contrôler les symptômes" in goals and "Projet de fin de vie" in goals
    assert "Control the symptoms" not in goals
    template = section(body, "followup-HF-3")
    assert "Visite infirmière à domicile" in template and "Nurse home visit" not in template
    assert "Vaccination antigrippale des 65 ans et plus" in body
    assert "NYHA III-IV ou au moins deux hospitalisations en 6 mois." in body
    assert "Flu vaccination" not in body


def test_without_its_english_a_text_is_read_in_french(client, logged_in, case_manager, session):
    hf3 = stratum("HF-3")
    hf3.goals[0].description_en = None
    hf3.followup_items[0].label_en = ""
    hf3.boundary_criteria_en = None
    program("HF").indicators[0].label_en = None
    session.commit()
    logged_in(case_manager)
    body = client.get("/programs/HF", headers=EN).get_data(as_text=True)
    assert "Contrôler les symptômes" in section(body, "goals-HF-3")
    assert "Reduce readmissions" in section(body, "goals-HF-3")
    assert "Visite infirmière à domicile" in section(body, "followup-HF-3")
    assert "NYHA III-IV ou au moins deux hospitalisations en 6 mois." in body
    assert "Vaccination antigrippale des 65 ans et plus" in body


def test_the_figures_name_the_indicators_in_the_readers_language(app, session):
    hf = program("HF")
    douaisis = session.scalar(select(Territory).where(Territory.code == "DOUAISIS"))
    today = local_today()
    everywhere = metrics.Selection(Period(today - timedelta(days=30), today))
    for headers, expected in ((EN, "Flu vaccination of people aged 65 and over"),
                              (FR, "Vaccination antigrippale des 65 ans et plus")):
        with app.test_request_context(headers=headers):
            refresh()
            assert [ref.label for ref in targets.indicator_refs(session, hf.id, None)] == [
                expected]
            assert [row.label for row in targets.target_rows(session, douaisis.id, hf.id)] == [
                expected]
            assert [ref.label for ref in metrics.program_targets(
                session, everywhere, [hf.id])[hf.id]] == [expected]
            assert [ref.label for ref in metrics.targets(session, everywhere)] == [expected]


# -- The care-plan form ---------------------------------------------------------------------------

@pytest.fixture
def hf3_patient(case_manager):
    from coordinator.patients import assignments

    patient = factories.make_patient(case_manager_id=case_manager.id, consent_share=True,
                                     consent_date=local_today())
    assignments.assign_stratum(db.session, factories.case_plan_actor(case_manager), patient,
                               stratum("HF-3"), local_today() - timedelta(days=10))
    db.session.commit()
    return patient


@pytest.mark.parametrize("headers,expected", [
    (FR, [("health", "Contrôler les symptômes"), ("health", "Réduire les réhospitalisations"),
          ("psychological", "Projet de fin de vie")]),
    (EN, [("health", "Control the symptoms"), ("health", "Reduce readmissions"),
          ("psychological", "End-of-life wishes")]),
])
def test_a_new_plan_of_an_hf3_patient_starts_with_each_goal_in_its_domain(
        client, logged_in, case_manager, hf3_patient, headers, expected):
    logged_in(case_manager)
    page = client.get(f"/careplans/new/{hf3_patient.id}", headers=headers)
    assert page.status_code == 200
    fields = form_fields(page.get_data(as_text=True), "plan-form")
    assert [(fields[f"goals-{n}-domain"], fields[f"goals-{n}-description"])
            for n in range(3)] == expected
    # then the follow-up goal of the template, its actions in the reader's language
    assert fields["goals-3-domain"] == "health"
    assert fields["goals-3-actions-0-description"] == (
        "Nurse home visit" if headers is EN else "Visite infirmière à domicile")


def test_a_stratum_goal_changed_by_the_council_is_what_the_plan_suggests(
        client, logged_in, case_manager, hf3_patient, session):
    hf3 = stratum("HF-3")
    hf3.goals.append(StratumGoal(position=3, domain="caregiver", description="Soutenir l'aidant",
                                 description_en="Support the caregiver"))
    session.commit()
    logged_in(case_manager)
    fields = form_fields(client.get(f"/careplans/new/{hf3_patient.id}", headers=EN)
                         .get_data(as_text=True), "plan-form")
    assert (fields["goals-3-domain"], fields["goals-3-description"]) == (
        "caregiver", "Support the caregiver")


# -- Administrators edit both languages ---------------------------------------------------------

def test_the_stratum_form_edits_its_goals_in_both_languages(client, logged_in, admin, session):
    logged_in(admin)
    url = "/programs/HF/strata/HF-3/edit"
    fields = form_fields(client.get(url, headers=EN).get_data(as_text=True))
    assert (fields["goals-2-domain"], fields["goals-2-description"],
            fields["goals-2-description_en"]) == ("psychological", "Projet de fin de vie",
                                                  "End-of-life wishes")
    assert fields["boundary_criteria_en"].startswith("NYHA III-IV or")
    fields["goals-0-remove"] = "y"
    fields["goals-2-domain"] = "social"
    fields["goals-3-domain"] = "caregiver"
    fields["goals-3-description"] = "Soutenir l'aidant"
    fields["goals-3-description_en"] = "Support the caregiver"
    fields["boundary_criteria_en"] = "NYHA III-IV."
    response = client.post(url, data=fields, headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    hf3 = stratum("HF-3")
    assert [(g.position, g.domain, g.description, g.description_en) for g in hf3.goals] == [
        (0, "health", "Réduire les réhospitalisations", "Reduce readmissions"),
        (1, "social", "Projet de fin de vie", "End-of-life wishes"),
        (2, "caregiver", "Soutenir l'aidant", "Support the caregiver")]
    assert hf3.boundary_criteria_en == "NYHA III-IV." and hf3.version == 2


def test_a_new_stratum_is_created_with_its_goals(client, logged_in, admin, session):
    logged_in(admin)
    url = "/programs/HF/strata/new"
    fields = form_fields(client.get(url).get_data(as_text=True))
    assert fields["goals-0-description"] == "" and "goals-1-domain" in fields
    fields.update({"name": "Fin de vie", "name_en": "End of life",
                   "goals-0-domain": "psychological", "goals-0-description": "Confort",
                   "goals-0-description_en": "Comfort"})
    assert client.post(url, data=fields).status_code == 302
    session.expire_all()
    hf4 = stratum("HF-4")
    assert [(g.domain, g.description, g.description_en) for g in hf4.goals] == [
        ("psychological", "Confort", "Comfort")]


def test_a_goal_without_domain_or_french_text_is_refused_on_its_row(
        client, logged_in, admin, session):
    logged_in(admin)
    url = "/programs/HF/strata/HF-3/edit"
    fields = form_fields(client.get(url, headers=EN).get_data(as_text=True))
    fields["goals-3-description_en"] = "Advance directives"  # no domain, no French
    response = client.post(url, data=fields, headers=EN)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="goals-3-domain-error"' in body and "Choose a domain of the assessment." in body
    assert 'id="goals-3-description-error"' in body and "Describe the goal." in body
    session.expire_all()
    assert len(stratum("HF-3").goals) == 3 and stratum("HF-3").version == 1


def test_the_template_and_indicator_forms_take_an_english_label(client, logged_in, admin,
                                                                  session):
    logged_in(admin)
    url = "/programs/HF/strata/HF-1/followup"
    fields = form_fields(client.get(url).get_data(as_text=True))
    assert fields["items-0-label_en"] == "GP follow-up consultation"
    fields["items-0-label_en"] = "Follow-up visit to the GP"
    assert client.post(url, data=fields).status_code == 302
    fields = form_fields(client.get("/programs/HF/indicators").get_data(as_text=True))
    response = client.post("/programs/HF/indicators/new", data={
        "csrf_token": fields["csrf_token"], "code": "readmission_30d",
        "label": "Réhospitalisation à 30 jours", "label_en": "30-day readmission",
        "target_percent": "15"})
    assert response.status_code == 302
    session.expire_all()
    assert stratum("HF-1").followup_items[0].label_en == "Follow-up visit to the GP"
    added = next(i for i in program("HF").indicators if i.code == "readmission_30d")
    assert (added.label, added.label_en) == ("Réhospitalisation à 30 jours", "30-day readmission")
    body = client.get("/programs/HF", headers=EN).get_data(as_text=True)
    assert "30-day readmission" in body and "Follow-up visit to the GP" in body


def test_the_program_form_edits_the_english_inclusion_criteria(client, logged_in, admin,
                                                                session):
    logged_in(admin)
    url = "/programs/HF/edit"
    fields = form_fields(client.get(url).get_data(as_text=True))
    fields["inclusion_criteria"] = "FEVG < 40 %"
    fields["inclusion_criteria_en"] = "LVEF < 40 %"
    assert client.post(url, data=fields).status_code == 302
    assert "LVEF &lt; 40 %" in client.get("/programs/HF", headers=EN).get_data(as_text=True)
    assert "FEVG &lt; 40 %" in client.get("/programs/HF", headers=FR).get_data(as_text=True)


# -- The migration ------------------------------------------------------------------------------

@pytest.mark.live_database
def test_the_migration_structures_the_goals_and_fills_the_english(tmp_path):
    url = dbutil.fresh_database(tmp_path)
    application = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    try:
        with application.app_context(), application.test_request_context():
            flask_migrate.upgrade()
            load_reference_data(db.session)
            db.session.commit()
            db.session.close()
            flask_migrate.downgrade(revision="0026")
            goals = dict(db.session.execute(text(
                "SELECT code, clinical_goals FROM stratum")).all())
            db.session.close()
            assert goals["HF-3"] == ("Contrôler les symptômes ; Réduire les "
                                     "réhospitalisations ; Projet de fin de vie.")
            # Before the upgrade: a council rewrote the goals of HF-2 and a template line.
            db.session.execute(text(
                "UPDATE stratum SET clinical_goals = :text WHERE code = 'HF-2'"),
                {"text": "perdre du poids.\nMarcher chaque jour ; "})
            db.session.execute(text(
                "UPDATE stratum SET boundary_criteria = 'NYHA II' WHERE code = 'HF-1'"))
            db.session.execute(text(
                "UPDATE followup_template_item SET label = 'Visite hebdomadaire' WHERE id = "
                "(SELECT MIN(id) FROM followup_template_item WHERE label = "
                "'Visite infirmière à domicile')"))
            db.session.commit()
            db.session.close()
            flask_migrate.upgrade()
            rows = db.session.execute(text(
                "SELECT s.code, g.position, g.domain, g.description, g.description_en "
                "FROM stratum_goal g JOIN stratum s ON s.id = g.stratum_id "
                "ORDER BY s.code, g.position")).all()
            by_code: dict[str, list] = {}
            for code, *goal in rows:
                by_code.setdefault(code, []).append(tuple(goal))
            assert by_code["HF-3"] == [
                (0, "health", "Contrôler les symptômes", "Control the symptoms"),
                (1, "health", "Réduire les réhospitalisations", "Reduce readmissions"),
                (2, "psychological", "Projet de fin de vie", "End-of-life wishes")]
            assert by_code["HF-2"] == [(0, "health", "Perdre du poids", None),
                                       (1, "health", "Marcher chaque jour", None)]
            assert len(by_code) == 12
            boundaries = dict(db.session.execute(text(
                "SELECT code, boundary_criteria_en FROM stratum")).all())
            assert boundaries["HF-1"] is None and boundaries["HF-3"].startswith("NYHA III-IV or")
            labels = set(db.session.execute(text(
                "SELECT label, label_en FROM followup_template_item")).all())
            assert ("Visite hebdomadaire", None) in labels
            assert ("Visite infirmière à domicile", "Nurse home visit") in labels
            assert ("Évaluation sociale", "Social assessment") in labels
            indicators = set(db.session.execute(text(
                "SELECT label_en FROM program_indicator")).scalars())
            assert indicators == {"Flu vaccination of people aged 65 and over"}
            db.session.close()
            flask_migrate.downgrade(revision="0026")
            inspector = db.inspect(db.engine)
            assert "stratum_goal" not in inspector.get_table_names()
            assert "label_en" not in {c["name"] for c in
                                      inspector.get_columns("followup_template_item")}
            goals = dict(db.session.execute(text(
                "SELECT code, clinical_goals FROM stratum")).all())
            assert goals["HF-2"] == "Perdre du poids ; Marcher chaque jour."
            db.session.remove()
    finally:
        with application.app_context():
            db.engine.dispose()
        dbutil.drop_database(url)


def test_the_reference_goals_use_the_assessment_domains(session):
    from coordinator.careplans.models import ASSESSMENT_DOMAINS

    goals = session.scalars(select(StratumGoal)).all()
    assert goals and {goal.domain for goal in goals} <= set(ASSESSMENT_DOMAINS)
    assert all(goal.description_en for goal in goals)
