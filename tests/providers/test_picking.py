"""Choosing a provider by search: the directory's search endpoint (name, kind, town, with or
without accents, at most 20, signed-in readers only), the selects the forms still render (one
group per kind, "Name — kind — town", that post without any script), the vendored widget
served from the application itself."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from coordinator.careplans.models import CarePlan, CarePlanMember
from coordinator.extensions import db
from tests import factories
from tests.factories import make_provider, territory
from tests.htmlform import form_fields

VENDOR = Path(__file__).parents[2] / "coordinator" / "static" / "vendor" / "tom-select"


def found(client, **params) -> list[str]:
    response = client.get("/providers/search", query_string=params)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/json"
    return [row["label"] for row in response.get_json()["results"]]


@pytest.fixture
def directory():
    douai = territory("DOUAISIS").id
    return {
        "nurse": make_provider(kind="nurse", name="Élodie Marchal", city="Saint-Amand-les-Eaux"),
        "gp": make_provider(kind="gp", name="Jean Lefèbvre", city="Orchies"),
        "dietitian": make_provider(kind="dietitian", name="Sophie Leroy", city="Douai",
                                   organisation="Maison de santé Gayant"),
        "inactive": make_provider(kind="nurse", name="Marc Élie", city="Saint-Amand-les-Eaux",
                                  is_active=False),
        "elsewhere": make_provider(kind="nurse", name="Anne Kervella", city="Quimper",
                                   territory_code="CORNOUAILLE"),
        "territory": douai,
    }


def test_search_by_name_any_case_any_accent(client, logged_in, make_user, directory):
    logged_in(make_user(role="gp"))
    douai = directory["territory"]
    assert found(client, q="lefebvre", territory=douai) == [
        "Jean Lefèbvre — Médecin traitant — Orchies"]
    assert found(client, q="ÉLODIE", territory=douai) == \
        found(client, q="elodie", territory=douai) == [
            "Élodie Marchal — Infirmier — Saint-Amand-les-Eaux"]
    assert found(client, q="gayant") == found(client, q="leroy")  # the organisation too


def test_search_by_town_without_its_accents_or_hyphens(client, logged_in, case_manager,
                                                      directory):
    logged_in(case_manager)
    labels = found(client, q="saint ama", territory=directory["territory"])
    assert [label.split(" — ")[0] for label in labels] == ["Élodie Marchal"]  # not the inactive
    assert found(client, q="st-amand") == []  # words start words: "st" is not "saint"
    assert [label.split(" — ")[0] for label in found(client, q="orch")] == ["Jean Lefèbvre"]


def test_search_by_kind_in_the_readers_language_and_filters(client, logged_in, case_manager,
                                                           directory):
    logged_in(case_manager)
    douai = directory["territory"]
    nurses = {label.split(" — ")[0] for label in found(client, q="infirm", territory=douai)}
    assert nurses == {"Élodie Marchal"}
    assert {label.split(" — ")[0] for label in found(client, q="nurse")} >= {
        "Élodie Marchal", "Anne Kervella"}  # the kind's code; every territory without one
    assert [label.split(" — ")[0] for label in found(client, q="saint", kind="gp")] == []
    assert [label.split(" — ")[0] for label in found(client, q="orchies", kind="gp",
                                                     territory=douai)] == ["Jean Lefèbvre"]
    # every word must match one of the fields: a nurse in Orchies there is not
    assert found(client, q="infirm orchies") == []
    rows = client.get("/providers/search", query_string={"q": "orchies"}).get_json()["results"]
    assert rows[0]["id"] == directory["gp"].id and rows[0]["group"] == "Médecin traitant"
    assert "(DOUAISIS)" in rows[0]["label"]  # a search over every territory names it


def test_at_most_twenty_by_name(client, logged_in, case_manager):
    for n in range(25):
        make_provider(kind="physiotherapist", name=f"Kiné {n:02d}", city="Lallaing")
    logged_in(case_manager)
    labels = found(client, q="lallaing")
    assert len(labels) == 20
    assert labels[0].startswith("Kiné 00 — ") and labels[-1].startswith("Kiné 19 — ")


def test_bad_filters_are_refused_and_the_search_needs_a_sign_in(client, logged_in,
                                                               case_manager, directory):
    response = client.get("/providers/search?q=elodie")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    logged_in(case_manager)
    assert client.get("/providers/search?kind=wizard").status_code == 400
    assert "kind" in client.get("/providers/search?kind=wizard").json["errors"]
    assert "territory" in client.get("/providers/search?territory=abc").json["errors"]
    assert client.get("/providers/search?territory=99999999999").status_code == 400
    assert client.get("/providers/search?territory=abc").status_code == 400
    assert found(client, q="x" * 5000) == []


def test_the_care_plan_form_groups_its_providers_and_posts_without_scripts(
        client, logged_in, case_manager, directory):
    patient = factories.make_patient(case_manager_id=case_manager.id)
    logged_in(case_manager)
    html = client.get(f"/careplans/new/{patient.id}").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="team-0-provider_id".*?</select>', html, re.S)[0]
    assert 'data-provider-search="/providers/search?territory=' in select_html
    assert '<optgroup label="Infirmier' in select_html
    assert "Élodie Marchal — Infirmier" in select_html and "Saint-Amand-les-Eaux" in select_html
    assert "Anne Kervella" not in select_html  # another territory's
    data = form_fields(html, "plan-form") | {"priorities": "Rester à domicile",
                                             "plan_date": date.today().isoformat(),
                                             "team-0-provider_id": directory["nurse"].id,
                                             "team-0-role": "Soins"}
    response = client.post(f"/careplans/new/{patient.id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    plan = db.session.scalars(select(CarePlan).where(CarePlan.patient_id == patient.id)).one()
    assert db.session.scalars(select(CarePlanMember.provider_id)
                              .where(CarePlanMember.plan_id == plan.id)).all() == [
        directory["nurse"].id]


def test_a_provider_of_another_territory_is_still_refused(client, logged_in, case_manager,
                                                         directory):
    patient = factories.make_patient(case_manager_id=case_manager.id)
    logged_in(case_manager)
    html = client.get(f"/careplans/new/{patient.id}").get_data(as_text=True)
    data = form_fields(html, "plan-form") | {"plan_date": date.today().isoformat(),
                                             "team-0-provider_id": directory["elsewhere"].id}
    assert client.post(f"/careplans/new/{patient.id}", data=data).status_code == 400


def test_every_provider_select_is_searchable(client, logged_in, case_manager, admin, directory):
    patient = factories.make_patient(case_manager_id=case_manager.id)
    logged_in(case_manager)
    booking = client.get(f"/scheduling/patients/{patient.id}/new").get_data(as_text=True)
    assert re.search(r'<select[^>]*data-provider-search="/providers/search\?territory=\d+"'
                     r'[^>]*name="provider_id"|<select[^>]*name="provider_id"[^>]*'
                     r'data-provider-search=', booking)
    record = client.get(f"/patients/{patient.id}/edit").get_data(as_text=True)
    gp_select = re.search(r'<select[^>]*name="gp_id".*?</select>', record, re.S)[0]
    assert "kind=gp" in gp_select and "Jean Lefèbvre — Médecin traitant — Orchies" in gp_select
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    logged_in(admin)
    account = client.get("/admin/users/new").get_data(as_text=True)
    provider_select = re.search(r'<select[^>]*name="provider_id".*?</select>', account, re.S)[0]
    assert 'data-provider-search="/providers/search"' in provider_select
    assert "Anne Kervella — Infirmier" in provider_select and "(CORNOUAILLE)" in provider_select


def test_the_widget_is_vendored_and_served_by_the_application(client, logged_in, case_manager):
    logged_in(case_manager)
    page = client.get("/providers/").get_data(as_text=True)
    for path in ("/static/vendor/tom-select/tom-select.complete.min.js",
                 "/static/vendor/tom-select/tom-select.bootstrap5.min.css",
                 "/static/provider-picker.js"):
        assert f'"{path}"' in page
        response = client.get(path)
        assert response.status_code == 200 and len(response.data) > 1000
        response.close()
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
    assert "Apache License" in (VENDOR / "LICENSE").read_text()
    assert re.match(r"tom-select \d+\.\d+\.\d+ from https://registry\.npmjs\.org/",
                    (VENDOR / "VERSION").read_text())


def test_the_choices_put_the_blank_first_then_a_group_per_kind(app, directory):
    from coordinator.providers import picking

    with app.test_request_context():
        nurse, gp, dietitian = directory["nurse"], directory["gp"], directory["dietitian"]
        choices = picking.choices([nurse, dietitian, gp], first=[dietitian.id],
                                  first_group="Équipe de soins")
        assert [(c.value, c.optgroup) for c in choices] == [
            ("", None), (dietitian.id, "Équipe de soins"), (gp.id, "Médecin traitant"),
            (nurse.id, "Infirmier")]  # the directory's order of kinds: GPs, then nurses
        assert choices[2].label == "Jean Lefèbvre — Médecin traitant — Orchies"
        assert picking.label(directory["inactive"]).endswith(" — Saint-Amand-les-Eaux (inactif)")
