"""Administrators change accounts (role, territory, directory record, enabled) and reset
passwords; a GP's account page names the directory record it is linked to."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.auth import services
from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError
from tests import factories

EDIT = "/admin/users/{}/edit"


def edit_data(client, user, **changes):
    """The edit form as the page fills it, with `changes`."""
    body = client.get(EDIT.format(user.id)).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)
    state = re.search(r'name="state"[^>]*value="([^"]*)"', body)
    data = {"csrf_token": token, "state": state.group(1) if state else "",
            "full_name": user.full_name, "role": str(user.role),
            "territory": user.territory.code if user.territory else "",
            "provider_id": str(user.provider_id or "")}
    if user.is_active:
        data["is_active"] = "y"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def entries(session, user_id):
    return session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "user",
                                                    AuditEntry.entity_id == str(user_id))
                           .order_by(AuditEntry.id)).all()


def test_an_edit_is_applied_audited_and_ends_the_users_sessions(app, client, logged_in, admin,
                                                                 case_manager, session):
    victim = app.test_client()
    assert victim.login(case_manager.email).status_code == 302
    assert victim.get("/").status_code == 200
    logged_in(admin)
    response = client.post(EDIT.format(case_manager.id),
                           data=edit_data(client, case_manager, territory="CORNOUAILLE",
                                          full_name="Renamed Person"))
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    user = session.get(User, case_manager.id)
    assert user.territory.code == "CORNOUAILLE" and user.full_name == "Renamed Person"
    assert victim.get("/").status_code == 302  # signed out: must sign in again
    last = entries(session, user.id)[-1]
    assert last.action == "update" and "territory" in last.details["fields"]
    assert last.details["changes"]["territory"]["to"] == user.territory_id
    assert last.actor_user_id == admin.id


def test_a_change_of_name_only_keeps_the_sessions(app, client, logged_in, admin, case_manager,
                                                  session):
    victim = app.test_client()
    assert victim.login(case_manager.email).status_code == 302
    logged_in(admin)
    client.post(EDIT.format(case_manager.id),
                data=edit_data(client, case_manager, full_name="Just Renamed"))
    assert victim.get("/").status_code == 200


def test_disabling_through_the_edit_ends_sessions_and_refuses_sign_in(app, client, logged_in,
                                                                     admin, case_manager,
                                                                     session):
    victim = app.test_client()
    assert victim.login(case_manager.email).status_code == 302
    logged_in(admin)
    response = client.post(EDIT.format(case_manager.id),
                           data=edit_data(client, case_manager, is_active=None))
    assert response.status_code == 302
    assert victim.get("/").status_code == 302
    assert app.test_client().login(case_manager.email).status_code == 401


def test_refusals_name_their_field(client, logged_in, admin, session):
    gp_record = factories.make_provider("gp")
    nurse = factories.make_provider("nurse")
    gp = factories.make_user(role="gp", provider_id=gp_record.id)
    logged_in(admin)
    # A case manager needs a territory, and is linked to no directory record.
    response = client.post(EDIT.format(gp.id),
                           data=edit_data(client, gp, role="case_manager", territory=""))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="territory-error"' in body and 'id="provider_id-error"' in body
    # A GP's record must be a GP's.
    response = client.post(EDIT.format(gp.id), data=edit_data(client, gp,
                                                              provider_id=str(nurse.id)))
    assert response.status_code == 400
    assert 'id="provider_id-error"' in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, gp.id).provider_id == gp_record.id


def test_an_administrator_keeps_their_own_role_and_account(client, logged_in, admin, make_user,
                                                           session):
    make_user(role="admin")  # not the last administrator: the refusal is about oneself
    logged_in(admin)
    response = client.post(EDIT.format(admin.id), data=edit_data(client, admin,
                                                                 role="case_manager",
                                                                 territory="DOUAISIS"))
    assert response.status_code == 400
    assert 'id="role-error"' in response.get_data(as_text=True)
    response = client.post(EDIT.format(admin.id), data=edit_data(client, admin, is_active=None))
    assert response.status_code == 400
    assert 'id="is_active-error"' in response.get_data(as_text=True)
    session.expire_all()
    user = session.get(User, admin.id)
    assert user.role == "admin" and user.is_active
    assert client.get("/admin/users").status_code == 200  # still signed in


def test_an_administrator_changing_their_own_territory_stays_signed_in(client, logged_in,
                                                                      admin, session):
    logged_in(admin)
    response = client.post(EDIT.format(admin.id), data=edit_data(client, admin,
                                                                 territory="DOUAISIS"))
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_the_last_enabled_administrator_stays_one(session, admin):
    for other in session.scalars(select(User).where(User.role == "admin", User.id != admin.id)):
        other.is_active = False
    session.flush()
    with pytest.raises(ValidationError) as refused:
        services.update_user(session, Actor.system("cli"), admin, full_name=admin.full_name,
                             role="case_manager", territory_code="DOUAISIS", provider_id=None,
                             active=True)
    assert "role" in refused.value.errors
    with pytest.raises(ValidationError) as refused:
        services.set_active(session, admin, False, Actor.system("cli"))
    assert "user" in refused.value.errors
    another = factories.make_user(role="admin")
    services.update_user(session, Actor.system("cli"), admin, full_name=admin.full_name,
                         role="case_manager", territory_code="DOUAISIS", provider_id=None,
                         active=True)
    assert admin.role == "case_manager" and another.is_active


def test_a_change_saved_meanwhile_is_a_conflict(client, logged_in, admin, case_manager,
                                                session):
    logged_in(admin)
    data = edit_data(client, case_manager, territory="CORNOUAILLE")
    services.update_user(session, Actor.system("cli"), case_manager, full_name="Meanwhile",
                         role="case_manager", territory_code="DOUAISIS", provider_id=None,
                         active=True)
    session.commit()
    response = client.post(EDIT.format(case_manager.id), data=data)
    assert response.status_code == 409
    assert 'data-testid="current-values"' in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, case_manager.id).territory.code == "DOUAISIS"


def test_a_reset_password_signs_in_once_shown_and_the_old_one_no_longer(app, client, logged_in,
                                                                        admin, case_manager,
                                                                        session, caplog):
    victim = app.test_client()
    assert victim.login(case_manager.email).status_code == 302
    logged_in(admin)
    caplog.set_level(logging.DEBUG)
    response = client.post(f"/admin/users/{case_manager.id}/password",
                           data={"csrf_token": client.csrf_token(EDIT.format(case_manager.id))})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    password = re.search(r'data-testid="new-password"[^>]*>([^<]+)<', body).group(1)
    assert len(password) >= services.MIN_PASSWORD_LENGTH
    assert victim.get("/").status_code == 302  # the user's sessions ended
    fresh = app.test_client()
    assert fresh.login(case_manager.email).status_code == 401  # the old password
    assert fresh.login(case_manager.email, password).status_code == 302
    session.expire_all()
    user = session.get(User, case_manager.id)
    assert password not in user.password_hash
    reset = [e for e in entries(session, user.id) if e.summary == "password reset by an "
             "administrator"]
    assert len(reset) == 1 and reset[0].actor_user_id == admin.id
    assert password not in str(reset[0].details) and password not in (reset[0].summary or "")
    assert password not in caplog.text
    # Shown once: the users list and the edit page never show it again.
    assert password not in client.get("/admin/users").get_data(as_text=True)
    assert password not in client.get(EDIT.format(user.id)).get_data(as_text=True)


def test_reset_passwords_differ_and_pass_the_strength_rule():
    first, second = services.generate_password(), services.generate_password()
    assert first != second
    services.check_password_strength(first)


def test_an_administrator_does_not_reset_their_own_password_here(client, logged_in, admin,
                                                                 session):
    logged_in(admin)
    before = session.get(User, admin.id).password_hash
    response = client.post(f"/admin/users/{admin.id}/password",
                           data={"csrf_token": client.csrf_token("/admin/users")})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, admin.id).password_hash == before
    assert client.get("/admin/users").status_code == 200


def test_a_reset_may_revoke_the_api_tokens(client, logged_in, admin, case_manager, session):
    issued = services.issue_token(session, case_manager, Actor.system("test"))
    session.commit()
    logged_in(admin)
    client.post(f"/admin/users/{case_manager.id}/password",
                data={"csrf_token": client.csrf_token("/admin/users"), "revoke_tokens": "y"})
    assert services.user_for_token(session, issued.secret) is None


@pytest.mark.parametrize("role", ["case_manager", "council", "gp", "professional"])
def test_non_administrators_get_403(client, logged_in, make_user, case_manager, role):
    kwargs = {}
    if role in ("gp", "professional"):
        kwargs["provider_id"] = factories.make_provider("gp" if role == "gp" else "nurse").id
    logged_in(make_user(role=role, **kwargs))
    token = client.csrf_token("/account/password")
    assert client.get(EDIT.format(case_manager.id)).status_code == 403
    assert client.post(EDIT.format(case_manager.id),
                       data={"csrf_token": token, "role": "admin"}).status_code == 403
    assert client.post(f"/admin/users/{case_manager.id}/password",
                       data={"csrf_token": token}).status_code == 403


def test_the_forms_need_their_csrf_token(client, logged_in, admin, case_manager, session):
    logged_in(admin)
    before = session.get(User, case_manager.id).password_hash
    response = client.post(f"/admin/users/{case_manager.id}/password", data={})
    assert response.status_code == 400
    response = client.post(EDIT.format(case_manager.id),
                           data={"full_name": "X", "role": "admin"})
    assert response.status_code == 400
    session.expire_all()
    user = session.get(User, case_manager.id)
    assert user.password_hash == before and user.role == "case_manager"


def test_a_gps_account_page_names_its_directory_record(client, logged_in):
    record = factories.make_provider("gp", name="Dr Hélène Vasseur", city="Douai")
    gp = factories.make_user(role="gp", provider_id=record.id)
    logged_in(gp)
    response = client.get("/account", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    shown = re.search(r'data-testid="directory-record">(.*?)</dd>',
                      response.get_data(as_text=True), re.S).group(1)
    assert "Dr Hélène Vasseur" in shown and "Douai" in shown and "General practitioner" in shown


def test_an_unlinked_gp_is_told_so(client, logged_in):
    logged_in(factories.make_user(role="gp"))
    body = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Not linked to a directory record." in body
    body = client.get("/account", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Not linked to a directory record." not in body


def test_the_users_list_shows_the_directory_link(client, logged_in, admin, count_queries):
    logged_in(admin)
    record = factories.make_provider("gp", name="Dr Listed Record", city="Lens")
    factories.make_user(role="gp", provider_id=record.id)
    client.get("/admin/users")
    with count_queries() as few:
        body = client.get("/admin/users").get_data(as_text=True)
    assert "Dr Listed Record" in body and "Lens" in body
    for _i in range(5):
        factories.make_user(role="gp", provider_id=factories.make_provider("gp").id)
    with count_queries() as more:
        client.get("/admin/users")
    assert more.count == few.count, more.report()


def test_after_a_reset_the_account_chooses_its_own_password_before_anything_else(
        app, client, logged_in, admin, case_manager, session):
    logged_in(admin)
    response = client.post(f"/admin/users/{case_manager.id}/password",
                           data={"csrf_token": client.csrf_token(EDIT.format(case_manager.id))})
    password = re.search(r'data-testid="new-password"[^>]*>([^<]+)<',
                         response.get_data(as_text=True)).group(1)
    user_client = app.test_client()
    assert user_client.login(case_manager.email, password).status_code == 302
    for page in ("/", "/patients/", "/tasks/"):
        answer = user_client.get(page)
        assert answer.status_code == 302 and answer.location.endswith("/account/password")
    assert user_client.get("/api/v1/patients").status_code == 403  # the API with the session
    assert user_client.get("/account/password").status_code == 200
    token = user_client.csrf_token("/account/password")
    mine = "une-phrase-de-passe-bien-a-moi"
    changed = user_client.post("/account/password", data={
        "csrf_token": token, "current_password": password, "new_password": mine,
        "confirm": mine})
    assert changed.status_code == 302
    assert user_client.get("/patients/").status_code == 200
    session.expire_all()
    assert session.get(User, case_manager.id).must_change_password is False
