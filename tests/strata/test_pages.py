"""Program pages: every role reads them; administrators edit them (a program is common to the
territories: a council sets its own territory's targets, not the program, #15 finding 11)."""

import re

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.context import Actor
from coordinator.strata import services
from tests.factories import program, stratum

ROLES = ["admin", "council", "case_manager", "gp"]
EDITORS = ["admin"]
READERS_ONLY = ["case_manager", "gp"]
EDIT_PAGES = ["/programs/new", "/programs/HF/edit", "/programs/HF/strata/new",
              "/programs/HF/strata/HF-3/edit", "/programs/HF/strata/HF-3/followup",
              "/programs/HF/indicators"]
POSTS = [*EDIT_PAGES, "/programs/HF/indicators/new",
         "/programs/HF/indicators/flu_vaccination_65/delete"]
VERSION_RE = re.compile(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"')


@pytest.fixture
def editor(make_user, logged_in):
    user = make_user(role="admin")
    return logged_in(user)


def token(client, path="/programs/"):
    return client.csrf_token(path)


def version_on(body: str) -> str:
    match = VERSION_RE.search(body)
    assert match, "no version field"
    return match.group(1) or match.group(2)


def program_form(client, path, **values):
    hf = program("HF")
    data = {"csrf_token": token(client, path), "name": hf.name, "name_en": hf.name_en or "",
            "description": hf.description, "description_en": hf.description_en or "",
            "inclusion_criteria": hf.inclusion_criteria, "version": str(hf.version)}
    data.update(values)
    return data


def template_rows(*rows, blank=0):
    data = {}
    for index, row in enumerate([*rows, *[("", "", "", "")] * blank]):
        kind, label, interval, count, *remove = row
        data.update({f"items-{index}-provider_kind": kind, f"items-{index}-label": label,
                     f"items-{index}-interval_days": str(interval),
                     f"items-{index}-occurrences": str(count)})
        if remove:
            data[f"items-{index}-remove"] = "y"
    return data


# --- reading ---

@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_programs_and_their_pyramids(client, logged_in, make_user, role):
    logged_in(make_user(role=role))
    response = client.get("/programs/", headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for code in ("HF", "DIAB", "COPD", "POLY"):
        assert f'data-testid="pyramid-{code}"' in body
    assert "Insuffisance cardiaque instable" in body
    pyramid = body.split('data-testid="pyramid-HF"')[1].split("</ol>")[0]
    assert pyramid.index("Insuffisance cardiaque instable") < pyramid.index("Prévention du risque")
    assert "Vaccination antigrippale des 65 ans et plus" in body
    assert ('href="/programs/HF/edit"' in body) is (role in EDITORS)
    assert ('href="/programs/new"' in body) is (role in EDITORS)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_a_program_in_detail(client, logged_in, make_user, session, role):
    services.update_program(session, Actor.system(), program("HF"), {
        "inclusion_criteria": "FEVG < 40 %\nou hospitalisation pour IC"}, expected_version=1)
    session.commit()
    logged_in(make_user(role=role))
    response = client.get("/programs/HF", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Heart failure" in body and "Unstable heart failure" in body
    assert "FEVG &lt; 40 %<br>ou hospitalisation pour IC" in body
    assert 'id="stratum-HF-3"' in body and "Each patient of this stratum needs" in body
    followup = body.split('data-testid="followup-HF-3"')[1].split("</table>")[0]
    assert "Nurse home visit" in followup and "Visite infirmière" not in followup
    assert "<td class=\"text-end\">14</td>" in followup
    assert "Flu vaccination of people aged 65 and over" in body and "75 %" in body
    assert ('data-testid="editor-actions"' in body) is (role in EDITORS)
    assert ("/programs/HF/strata/HF-3/followup" in body) is (role in EDITORS)


def test_unknown_program_or_stratum_is_404(editor):
    assert editor.get("/programs/NOPE").status_code == 404
    assert editor.get("/programs/HF/strata/DIAB-1/edit").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/programs/HF")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- who may edit ---

@pytest.mark.parametrize("role", EDITORS)
@pytest.mark.parametrize("path", EDIT_PAGES)
def test_admins_open_the_edit_pages(client, logged_in, make_user, role, path):
    logged_in(make_user(role=role))
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("role", READERS_ONLY)
@pytest.mark.parametrize("path", EDIT_PAGES)
def test_case_managers_and_gps_may_not_open_the_edit_pages(client, logged_in, make_user, role,
                                                           path):
    logged_in(make_user(role=role))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", READERS_ONLY)
@pytest.mark.parametrize("path", POSTS)
def test_case_managers_and_gps_may_not_post(client, logged_in, make_user, session, role, path):
    logged_in(make_user(role=role))
    response = client.post(path, data={"csrf_token": token(client), "name": "Pirate",
                                       "version": "1", "code": "X", "label": "X",
                                       "target_percent": "1"})
    assert response.status_code == 403
    assert session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type.in_(["program", "stratum", "program_indicator"]))).all() == []


@pytest.mark.parametrize("path", POSTS)
def test_posts_need_the_csrf_token(editor, path):
    response = editor.post(path, data={"name": "Sans jeton", "version": "1"})
    assert response.status_code == 400
    assert program("HF").name == "Insuffisance cardiaque"


# --- programs ---

def test_an_administrator_creates_a_program(client, logged_in, make_user, session):
    logged_in(make_user(role="admin"))
    response = client.post("/programs/new", data={
        "csrf_token": token(client, "/programs/new"), "code": "ckd", "name": "Maladie rénale",
        "name_en": "Kidney disease", "description": "", "description_en": "",
        "inclusion_criteria": "DFG < 60"}, headers={"Accept-Language": "en"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/programs/CKD")
    created = program("CKD")
    assert created.name == "Maladie rénale" and created.indicators[0].is_builtin
    page = client.get("/programs/CKD", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Program CKD created." in page and "Kidney disease" in page


def test_program_errors_are_shown_on_their_fields(editor):
    response = editor.post("/programs/new", data={
        "csrf_token": token(editor, "/programs/new"), "code": "HF", "name": "Doublon"},
        headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="code-error"' in body and "Code HF is already used." in body
    assert 'aria-invalid="true"' in body and 'value="Doublon"' in body
    response = editor.post("/programs/new", data={
        "csrf_token": token(editor, "/programs/new"), "code": "NEW", "name": ""})
    assert response.status_code == 400
    assert 'id="name-error"' in response.get_data(as_text=True)
    assert program("NEW") is None


def test_admin_edits_a_program(editor):
    response = editor.post("/programs/HF/edit", data=program_form(
        editor, "/programs/HF/edit", inclusion_criteria="FEVG < 40 %"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/programs/HF")
    hf = program("HF")
    assert hf.inclusion_criteria == "FEVG < 40 %" and hf.version == 2


def test_the_edit_form_carries_the_version(editor):
    assert version_on(editor.get("/programs/HF/edit").get_data(as_text=True)) == "1"


def test_stale_program_edit_answers_409_keeping_the_input(editor, session):
    data = program_form(editor, "/programs/HF/edit", name="Mon nom",
                        inclusion_criteria="Mes critères")
    services.update_program(session, Actor.system(), program("HF"),
                            {"name": "Nom d'un collègue"}, expected_version=1)
    session.commit()
    response = editor.post("/programs/HF/edit", data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'data-testid="conflict"' in body
    assert 'value="Mon nom"' in body and "Mes critères</textarea>" in body
    assert "Nom d&#39;un collègue" in body  # the current value, beside the user's
    assert version_on(body) == "2"
    assert program("HF").name == "Nom d'un collègue"
    data.update(version="2")  # saving again, knowingly, replaces the colleague's change
    assert editor.post("/programs/HF/edit", data=data).status_code == 302
    assert program("HF").name == "Mon nom"


# --- strata ---

def stratum_form(client, path, **values):
    data = {"csrf_token": token(client, path), "level": "4", "code": "", "name": "Fin de vie",
            "name_en": "End of life", "boundary_criteria": "Pronostic < 1 an",
            "clinical_goals": "Confort", "requires_care_plan": "y"}
    data.update(values)
    return data


def test_add_a_stratum(editor):
    response = editor.post("/programs/HF/strata/new", data=stratum_form(
        editor, "/programs/HF/strata/new"))
    assert response.status_code == 302
    added = stratum("HF-4")
    assert added.requires_care_plan and added.boundary_criteria == "Pronostic < 1 an"


def test_new_stratum_form_proposes_the_next_level(editor):
    body = editor.get("/programs/HF/strata/new").get_data(as_text=True)
    assert re.search(r'name="level"[^>]*value="4"|value="4"[^>]*name="level"', body)


def test_stratum_errors_are_shown_on_their_fields(editor):
    response = editor.post("/programs/HF/strata/new", data=stratum_form(
        editor, "/programs/HF/strata/new", level="2"), headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="level-error"' in body
    assert "This program already has a stratum of level 2." in body
    assert stratum("HF-4") is None


def test_edit_a_stratum_and_its_care_plan_requirement(editor):
    path = "/programs/HF/strata/HF-2/edit"
    body = editor.get(path).get_data(as_text=True)
    assert version_on(body) == "1"
    response = editor.post(path, data=stratum_form(editor, path, level="2", code="HF-2",
                                                   name="IC stable", requires_care_plan="",
                                                   version="1"))
    assert response.status_code == 302
    hf2 = stratum("HF-2")
    assert hf2.name == "IC stable" and not hf2.requires_care_plan and hf2.version == 2


def test_stale_stratum_edit_answers_409(editor, session):
    path = "/programs/HF/strata/HF-2/edit"
    data = stratum_form(editor, path, level="2", code="HF-2", name="Le mien", version="1")
    services.update_stratum(session, Actor.system(), stratum("HF-2"), {"name": "Le sien"},
                            expected_version=1)
    session.commit()
    response = editor.post(path, data=data)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'value="Le mien"' in body and "Le sien" in body and version_on(body) == "2"
    assert stratum("HF-2").name == "Le sien"


# --- follow-up templates ---

def test_template_form_lists_the_lines_and_blank_rows(editor):
    body = editor.get("/programs/HF/strata/HF-3/followup").get_data(as_text=True)
    assert 'value="Visite infirmière à domicile"' in body
    assert 'name="items-6-label"' in body and 'name="items-7-label"' not in body  # 4 + 3 blank
    assert 'for="items-0-remove"' in body and 'for="items-0-interval_days"' in body


def test_save_a_template_adding_and_removing_lines(editor):
    path = "/programs/HF/strata/HF-3/followup"
    data = {"csrf_token": token(editor, path), "version": "1"}
    data.update(template_rows(("nurse", "Visite infirmière", 14, 6),
                              ("gp", "Consultation", 30, 3, "remove"),
                              ("psychologist", "Soutien psychologique", 30, 4), blank=2))
    response = editor.post(path, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert [(i.provider_kind, i.label) for i in stratum("HF-3").followup_items] == [
        ("nurse", "Visite infirmière"), ("psychologist", "Soutien psychologique")]
    detail = editor.get("/programs/HF", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Soutien psychologique" in detail and "Psychologist" in detail


def test_template_errors_are_shown_on_the_row(editor):
    path = "/programs/HF/strata/HF-3/followup"
    data = {"csrf_token": token(editor, path), "version": "1"}
    data.update(template_rows(("nurse", "Visite", 14, 6), ("gp", "", 400, 3), blank=1))
    response = editor.post(path, data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="items-1-interval_days-error"' in body and 'id="items-1-label-error"' in body
    assert "The interval is a whole number of days from 1 to 365." in body
    assert 'value="400"' in body  # the input is kept
    assert 'id="items-0-interval_days-error"' not in body
    assert len(stratum("HF-3").followup_items) == 4


def test_template_form_rejects_text_in_number_cells(editor):
    path = "/programs/HF/strata/HF-1/followup"
    data = {"csrf_token": token(editor, path), "version": "1"}
    data.update(template_rows(("gp", "Consultation", "souvent", 2)))
    response = editor.post(path, data=data)
    assert response.status_code == 400
    assert 'id="items-0-interval_days-error"' in response.get_data(as_text=True)


def test_stale_template_answers_409_keeping_the_rows(editor, session):
    path = "/programs/HF/strata/HF-1/followup"
    data = {"csrf_token": token(editor, path), "version": "1"}
    data.update(template_rows(("dietitian", "Ma ligne", 60, 2)))
    services.set_followup_template(session, Actor.system(), stratum("HF-1"), [
        {"provider_kind": "pharmacist", "label": "Sa ligne", "interval_days": 30,
         "occurrences": 1}])
    session.commit()
    response = editor.post(path, data=data)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'value="Ma ligne"' in body and 'data-testid="current-template"' in body
    assert "Sa ligne" in body and version_on(body) == "2"
    assert [i.label for i in stratum("HF-1").followup_items] == ["Sa ligne"]


# --- indicators ---

def test_edit_the_builtin_target(editor, session):
    path = "/programs/HF/indicators"
    body = editor.get(path).get_data(as_text=True)
    assert 'value="flu_vaccination_65"' in body and 'value="75"' in body
    assert "/indicators/flu_vaccination_65/delete" not in body
    response = editor.post(path, data={"csrf_token": token(editor, path),
                                       "indicators-0-code": "flu_vaccination_65",
                                       "indicators-0-target_percent": "80,5"})
    assert response.status_code == 302
    assert program("HF").indicators[0].target_percent == 80.5
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "program_indicator")).all()
    assert len(entries) == 1 and entries[0].patient_id is None


def test_target_out_of_range_is_shown_on_the_row(editor):
    path = "/programs/HF/indicators"
    response = editor.post(path, data={"csrf_token": token(editor, path),
                                       "indicators-0-code": "flu_vaccination_65",
                                       "indicators-0-target_percent": "120"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="indicators-0-target_percent-error"' in body
    assert "The target is a percentage from 0 to 100." in body and 'value="120"' in body
    assert program("HF").indicators[0].target_percent == 75


def test_add_then_delete_an_indicator(editor):
    path = "/programs/HF/indicators"
    response = editor.post(path + "/new", data={
        "csrf_token": token(editor, path), "code": "readmission_30d",
        "label": "Réhospitalisations à 30 jours", "target_percent": "15"})
    assert response.status_code == 302
    body = editor.get(path).get_data(as_text=True)
    assert "Réhospitalisations à 30 jours" in body
    assert "/indicators/readmission_30d/delete" in body
    response = editor.post(path + "/readmission_30d/delete",
                           data={"csrf_token": token(editor, path)})
    assert response.status_code == 302
    assert [i.code for i in program("HF").indicators] == ["flu_vaccination_65"]


def test_new_indicator_errors_are_shown_on_their_fields(editor):
    path = "/programs/HF/indicators"
    response = editor.post(path + "/new", data={
        "csrf_token": token(editor, path), "code": "flu_vaccination_65", "label": "Doublon",
        "target_percent": "10"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="code-error"' in body and "Code flu_vaccination_65 is already used." in body


def test_builtin_indicator_cannot_be_deleted_from_the_page(editor):
    path = "/programs/HF/indicators"
    response = editor.post(path + "/flu_vaccination_65/delete",
                           data={"csrf_token": token(editor, path)},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "A built-in indicator cannot be deleted" in response.get_data(as_text=True)
    assert [i.code for i in program("HF").indicators] == ["flu_vaccination_65"]
