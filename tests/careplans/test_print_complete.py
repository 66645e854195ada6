"""The printed plan (PDF and print preview) carries every part of the PPCS the page carries, in
the page's order, and the patient's address as people write it (#16, bug 4)."""

from __future__ import annotations

import html
import io
import re

import pytest
from pypdf import PdfReader

from coordinator.careplans.labels import DOMAIN_LABELS
from coordinator.careplans.models import ASSESSMENT_DOMAINS
from tests import factories

EN = {"Accept-Language": "en"}
ASSESSMENT = {domain: {"summary": f"Bilan {domain} résumé", "needs": f"Besoin {domain} noté"}
              for domain in ASSESSMENT_DOMAINS}


@pytest.fixture
def plan(case_manager):
    gp = factories.make_provider("gp", name="Dr Paul Lefebvre", phone="03 27 00 00 01",
                                 address="3 place d'Armes", postal_code="59500", city="Douai")
    patient = factories.make_patient(
        birth_name="Dubois", first_names="Jeanne", gp_id=gp.id, phone="03 27 11 22 33",
        address="12 rue Berthelot", postal_code="59500", city="Douai",
        case_manager_id=case_manager.id, consent_share=True)
    return factories.make_care_plan(patient, user=case_manager, status="active",
                                    assessment=ASSESSMENT, expectations="Voir ses petits-enfants",
                                    life_project="Jardiner au printemps",
                                    current_help="Aide ménagère deux fois par semaine")


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text))


def _in_order(text: str, parts: list[str]) -> None:
    """Every part appears in `text`, each after the one before."""
    position = -1
    for part in parts:
        found = text.find(part, position + 1)
        assert found > position, f"{part!r} missing or out of order"
        position = found


def _page_headings(html: str) -> list[str]:
    section = html.split('class="plan"', 1)[1] if 'class="plan"' in html else html
    return re.findall(r'<h2 id="(s-[a-z-]+)"', section)


def _expected(plan) -> list[str]:
    """What the page shows of the plan, in its order: the address, the priorities, each domain
    of the assessment with its summary and needs, the goals and actions, the team, the help in
    place, the agreement."""
    parts = ["12 rue Berthelot, 59500 Douai", "Rester à domicile", "Voir ses petits-enfants",
             "Jardiner au printemps", "Multidimensional assessment"]
    for domain in ASSESSMENT_DOMAINS:
        parts += [str(DOMAIN_LABELS[domain]), ASSESSMENT[domain]["summary"],
                  ASSESSMENT[domain]["needs"]]
    parts += ["Stabiliser le poids", "Pesée quotidienne", "Dr Paul Lefebvre",
              "3 place d'Armes, 59500 Douai", "Aide ménagère deux fois par semaine"]
    return parts


def test_the_pdf_carries_the_assessment_and_the_address_in_the_page_order(
        client, logged_in, case_manager, plan):
    logged_in(case_manager)
    page = client.get(f"/careplans/{plan.id}", headers=EN).get_data(as_text=True)
    with client.application.test_request_context(headers=EN):
        expected = _expected(plan)
    _in_order(_flat(page), expected)  # the page itself, for reference
    response = client.get(f"/careplans/{plan.id}/summary.pdf", headers=EN)
    assert response.status_code == 200
    text = _flat(_pdf_text(response.data))
    assert "BerthelotDouai" not in text and "Berthelot59500" not in text  # never glued
    _in_order(text, expected)


def test_the_print_preview_has_the_sections_of_the_page_in_the_same_order(
        client, logged_in, case_manager, plan):
    logged_in(case_manager)
    page = client.get(f"/careplans/{plan.id}", headers=EN).get_data(as_text=True)
    preview = client.get(f"/careplans/{plan.id}/print", headers=EN).get_data(as_text=True)
    headings = _page_headings(page)
    assert "s-assessment" in headings
    assert _page_headings(preview) == headings
    with client.application.test_request_context(headers=EN):
        expected = _expected(plan)
    _in_order(_flat(preview), expected)


def test_a_missing_postal_code_or_city_leaves_no_stray_comma(client, logged_in, case_manager):
    patient = factories.make_patient(address="12 rue Berthelot", city="Douai",
                                     case_manager_id=case_manager.id)
    plan = factories.make_care_plan(patient, user=case_manager)
    logged_in(case_manager)
    preview = _flat(client.get(f"/careplans/{plan.id}/print", headers=EN).get_data(as_text=True))
    assert "12 rue Berthelot, Douai" in preview
    assert ", ," not in preview and "Douai," not in preview


def test_frequencies_are_written_with_their_plurals(client, logged_in, case_manager):
    plan = factories.make_care_plan(
        factories.make_patient(case_manager_id=case_manager.id), user=case_manager,
        goals=[{"description": "Suivre le poids", "domain": "health", "actions": [
            {"description": "Pesée", "responsible": "patient", "interval_days": 1,
             "occurrences": 1},
            {"description": "Visite", "responsible": "patient", "interval_days": 7,
             "occurrences": 3}]}])
    logged_in(case_manager)
    for url in (f"/careplans/{plan.id}", f"/careplans/{plan.id}/print"):
        page = _flat(client.get(url, headers=EN).get_data(as_text=True))
        assert "every day, 1 time" in page and "every 7 days, 3 times" in page
        french = _flat(client.get(url, headers={"Accept-Language": "fr"}).get_data(as_text=True))
        assert "tous les jours, 1 fois" in french and "tous les 7 jours, 3 fois" in french
