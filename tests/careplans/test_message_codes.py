"""What the system writes on a plan is kept as codes, read in each reader's language (issue
#16): the labels of what changed in a revision (history, timeline, API) and the follow-up goal
it writes from a stratum; texts kept before the codes read as they were written."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, refresh
from sqlalchemy import text

from coordinator.careplans import services
from coordinator.careplans.models import CarePlanGoal, CarePlanRevision
from coordinator.careplans.schemas import CarePlanRevisionSchema
from coordinator.core.time import local_today
from coordinator.extensions import db
from tests.careplans.test_services import goals_of
from tests.factories import case_plan_actor, make_care_plan, make_patient, make_provider, stratum


@pytest.fixture
def actor(case_manager):
    return case_plan_actor(case_manager)


@pytest.fixture
def patient():
    return make_patient(gp_id=make_provider(kind="gp").id)


def _edit_measure(session, actor, plan) -> CarePlanRevision:
    goals = goals_of(plan)
    goals[0]["measure"] = "Poids stable à 2 kg près"
    return services.save_plan(session, actor, plan, {"goals": goals}, plan.version)


def test_a_revision_saved_in_english_reads_in_french(app, session, actor, patient):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        plan = make_care_plan(patient, goals=[{"description": "Stabiliser le poids"}])
        revision = _edit_measure(session, actor, plan)
        assert revision.changed == ["Goal 1 \u203a Measure"]  # as written: the fallback
        assert revision.display_changed == ["Goal 1 \u203a Measure"]
        with force_locale("fr"):
            assert revision.display_changed == ["Objectif 1 \u203a Critère d’évaluation"]
            assert CarePlanRevisionSchema().dump(revision)["changed"] == [
                "Objectif 1 \u203a Critère d’évaluation"]


def test_a_revision_saved_in_french_reads_in_english(app, session, actor, patient):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        refresh()
        plan = make_care_plan(patient, goals=[{"description": "Stabiliser le poids"}])
        revision = _edit_measure(session, actor, plan)
        assert revision.changed == ["Objectif 1 \u203a Critère d’évaluation"]
        with force_locale("en"):
            assert revision.display_changed == ["Goal 1 \u203a Measure"]


def test_the_history_page_shows_the_readers_language(client, logged_in, case_manager,
                                                     session, actor, patient):
    with client.application.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        plan = make_care_plan(patient, user=case_manager,
                              goals=[{"description": "Stabiliser le poids"}])
        _edit_measure(session, actor, plan)
        session.commit()
    logged_in(case_manager)
    page = client.get(f"/careplans/{plan.id}/history", headers={"Accept-Language": "fr"})
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    assert "Objectif 1 \u203a Critère d’évaluation" in html and "Goal 1" not in html


def test_a_revision_kept_before_the_codes_reads_as_written(app, session, actor, patient):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        plan = make_care_plan(patient, goals=[{"description": "Stabiliser le poids"}])
        revision = _edit_measure(session, actor, plan)
        session.flush()
        # As the migration leaves an older row: its labels, no codes (the table refuses an
        # update: the row is read as such through a plain revision object).
        old = CarePlanRevision(changed=["Goal 1 \u203a Measure"], changed_codes=None)
        with force_locale("fr"):
            assert old.display_changed == ["Goal 1 \u203a Measure"]
            assert revision.display_changed != old.display_changed


def test_the_generated_follow_up_goal_reads_in_each_language(app, session, actor, patient):
    hf3 = stratum("HF-3")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        plan = services.create_plan(session, actor, patient,
                                    services.suggestions(session, patient, hf3))
        follow_up = plan.goals[-1]
        assert follow_up.description.startswith("Regular follow-up of the ")
        assert follow_up.description_code is not None
        assert plan.goals[0].description_code is None  # the stratum's own words
        with force_locale("fr"):
            assert follow_up.display_description.startswith("Suivi régulier du programme ")
            # Saved again by a French reader without touching it: still the system's goal.
            goals = goals_of(plan)
            goals[-1]["description"] = follow_up.display_description
            goals[0]["measure"] = "Trois fois par semaine"
            services.save_plan(session, actor, plan, {"goals": goals}, plan.version)
        assert follow_up.description_code is not None
        assert follow_up.display_description.startswith("Regular follow-up of the ")
        goals = goals_of(plan)
        goals[-1]["description"] = "Suivi adapté à Mme D."
        services.save_plan(session, actor, plan, {"goals": goals}, plan.version)
        assert (follow_up.description, follow_up.description_code) == (
            "Suivi adapté à Mme D.", None)
        with force_locale("fr"):
            assert follow_up.display_description == "Suivi adapté à Mme D."


def test_a_goal_kept_before_the_codes_reads_as_written(app, session, actor, patient):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        refresh()
        plan = make_care_plan(patient, goals=[{"description": "Regular follow-up of X"}])
        session.execute(text("UPDATE care_plan_goal SET description_code = NULL"))
        session.expire_all()
        assert db.session.get(CarePlanGoal, plan.goals[0].id).display_description == \
            "Regular follow-up of X"


def _supersede(session, actor, plan):
    new = services.revise_as_new_version(session, actor, plan)
    services.save_plan(session, actor, new, {"agreement_on": local_today(),
                                             "agreement_method": "oral"}, new.version)
    services.activate_plan(session, actor, new, new.version)
    session.flush()


def test_the_reason_a_superseded_plan_closed_reads_in_each_language(app, session, actor,
                                                                    patient):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        first = make_care_plan(patient, status="active")
        _supersede(session, actor, first)
        assert first.status == "closed"
        assert first.close_reason.startswith("Superseded by plan no. ")
        with force_locale("fr"):
            assert first.display_close_reason.startswith("Remplacé par le plan n° ")
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        refresh()
        old = make_care_plan(make_patient(), status="active")
        _supersede(session, actor, old)
        assert old.close_reason.startswith("Remplacé par le plan")
        with force_locale("en"):
            assert old.display_close_reason.startswith("Superseded by plan no. ")
