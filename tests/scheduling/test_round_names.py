"""A follow-up round named after its series' source keeps that name as a code: each reader
reads it in their language (issue #16); a name the user wrote stays their words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.patients import assignments
from coordinator.scheduling.models import FollowUpRound
from tests import factories
from tests.htmlform import form_fields

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}


@pytest.fixture
def patient(case_manager):
    gp = factories.make_provider("gp")
    for kind in ("nurse", "dietitian", "social_worker"):
        factories.make_provider(kind)
    patient = factories.make_patient(case_manager_id=case_manager.id, gp_id=gp.id)
    assignments.assign_stratum(db.session, factories.case_plan_actor(case_manager), patient,
                               factories.stratum("HF-3"), local_today() - timedelta(days=3))
    db.session.commit()
    return patient


def _book_series(client, patient, headers, **changes) -> FollowUpRound:
    query = {"source": f"stratum-{factories.stratum('HF-3').id}",
             "start": (local_today() + timedelta(days=7)).isoformat()}
    path = f"/scheduling/patients/{patient.id}/series"
    page = client.get(path, query_string=query, headers=headers).get_data(as_text=True)
    data = form_fields(page, "series-form") | changes
    response = client.post(path, query_string=query, data=data, headers=headers)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.scalars(select(FollowUpRound).order_by(FollowUpRound.id.desc())).first()


def _round_page(client, round_, headers) -> str:
    response = client.get(f"/scheduling/rounds/{round_.id}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_round_named_in_english_reads_in_french(client, logged_in, case_manager, patient):
    logged_in(case_manager)
    round_ = _book_series(client, patient, EN)
    assert round_.label.startswith("Template of HF-3 — ")  # as written: the literal fallback
    assert round_.label_code is not None
    french = _round_page(client, round_, FR)
    assert "Modèle de suivi de HF-3 — " in french and "Template of HF-3" not in french
    english = _round_page(client, round_, EN)
    assert "Template of HF-3 — " in english and "Modèle de suivi" not in english
    patients_page = client.get(f"/scheduling/patients/{patient.id}", headers=FR) \
        .get_data(as_text=True)
    assert "Modèle de suivi de HF-3" in patients_page


def test_a_round_named_in_french_reads_in_english(client, logged_in, case_manager, patient):
    logged_in(case_manager)
    round_ = _book_series(client, patient, FR)
    assert round_.label.startswith("Modèle de suivi de HF-3")
    assert "Template of HF-3 — " in _round_page(client, round_, EN)


def test_a_name_written_by_the_user_stays_as_written(client, logged_in, case_manager,
                                                     patient):
    logged_in(case_manager)
    round_ = _book_series(client, patient, EN, round_label="Bilan d'automne")
    assert (round_.label, round_.label_code) == ("Bilan d'automne", None)
    assert "Bilan d&#39;automne" in _round_page(client, round_, EN)


def test_a_round_stored_before_the_codes_reads_as_written(client, logged_in, case_manager,
                                                          patient):
    logged_in(case_manager)
    round_ = _book_series(client, patient, EN)
    db.session.execute(FollowUpRound.__table__.update().values(
        label="Template of HF-3 — old", label_code=None))
    db.session.commit()
    db.session.expire_all()
    assert "Template of HF-3 — old" in _round_page(client, round_, FR)
