"""Issue #15, findings 8 and 9: sign-in gives no timing oracle, is throttled per address as
well as per account, refuses common passwords; CSRF is skipped only for a real bearer token."""

import pytest

from coordinator import demo
from coordinator.auth import services
from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError
from tests.factories import PASSWORD, make_patient


def test_an_unknown_email_costs_the_same_hash_as_a_known_one(app, client, case_manager,
                                                             monkeypatch):
    """No timing oracle: the unknown e-mail is checked against a hash of the configured
    method (scrypt in production), not a cheap one."""
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "scrypt")
    checked = []
    real = services.check_password_hash

    def spy(pwhash, password):
        checked.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", spy)
    assert client.login("nobody@example.test", "whatever it is").status_code == 401
    assert len(checked) == 1
    assert checked[0].startswith("scrypt:")


def test_one_address_trying_many_emails_is_throttled(client, app):
    limit = int(app.config["LOGIN_IP_RATE_LIMIT"].split()[0])
    for number in range(limit):
        response = client.login(f"someone{number}@example.test", "not the password")
        assert response.status_code == 401, number
    response = client.login("yet.another@example.test", "not the password")
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "Too many sign-in attempts" in body or "Trop de tentatives" in body


def test_another_address_is_not_throttled_by_the_first(client, app):
    limit = int(app.config["LOGIN_IP_RATE_LIMIT"].split()[0])
    for number in range(limit + 1):
        client.login(f"someone{number}@example.test", "not the password")
    other = app.test_client()
    token = other.csrf_token("/login")
    response = other.post("/login", data={"csrf_token": token, "email": "x@example.test",
                                          "password": "nope"},
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 401


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "coordinator-demo", "password1234",
                                      "azertyuiop123", "123456789012"])
def test_common_or_guessable_passwords_are_refused(session, password):
    with pytest.raises(ValidationError) as refused:
        services.check_password_strength(password)
    assert "password" in refused.value.errors


def test_a_password_made_of_the_accounts_own_words_is_refused(session):
    with pytest.raises(ValidationError) as refused:
        services.create_user(session, Actor.system("test"), email="jeanne.dupont@chu.example",
                             full_name="Jeanne Dupont", role="admin",
                             password="jeanne.dupont2026", hash_method="pbkdf2:sha256:1000")
    assert "password" in refused.value.errors
    services.check_password_strength("jeanne.dupont2026")  # strong for anybody else


def test_a_long_passphrase_is_accepted(session):
    services.check_password_strength("une phrase de passe bien plus longue")
    services.check_password_strength(demo.DEMO_PASSWORD)


def test_the_admin_form_refuses_a_common_password_on_its_field(client, logged_in, admin,
                                                              session):
    logged_in(admin)
    data = {"csrf_token": client.csrf_token("/admin/users/new"), "email": "n@example.org",
            "full_name": "Nouvelle Personne", "role": "case_manager", "territory": "DOUAISIS",
            "provider_id": "", "password": "aaaaaaaaaaaa"}
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 400
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert services.find_user(session, "n@example.org") is None


def test_a_password_change_to_a_common_password_is_refused(client, logged_in, case_manager,
                                                          session):
    logged_in(case_manager)
    data = {"csrf_token": client.csrf_token("/account/password"), "current_password": PASSWORD,
            "new_password": "coordinator-demo", "confirm": "coordinator-demo"}
    response = client.post("/account/password", data=data)
    assert response.status_code == 400
    assert 'id="new_password-error"' in response.get_data(as_text=True)


def test_the_cli_refuses_a_common_password(session):
    with pytest.raises(ValidationError) as refused:
        services.create_user(session, Actor.system("test"), email="c@example.org",
                             full_name="C", role="admin", password="aaaaaaaaaaaa",
                             hash_method="pbkdf2:sha256:1000")
    assert "password" in refused.value.errors


def test_a_junk_bearer_header_beside_a_session_does_not_skip_csrf(client, logged_in,
                                                                 case_manager, session):
    patient = make_patient(phone="0300000000")
    logged_in(case_manager)
    response = client.patch(f"/api/v1/patients/{patient.id}", json={"phone": "0611111111"},
                            headers={"Authorization": "Bearer junk",
                                     "If-Match": f'"{patient.id}-{patient.version}"'})
    assert response.status_code in (400, 401)
    session.expire_all()
    assert session.get(type(patient), patient.id).phone == "0300000000"


def test_a_real_bearer_token_needs_no_csrf_token(client, case_manager, session):
    patient = make_patient(phone="0300000000")
    issued = services.issue_token(session, case_manager, Actor.system("test"))
    session.commit()
    response = client.patch(f"/api/v1/patients/{patient.id}", json={"phone": "0611111111"},
                            headers={"Authorization": f"Bearer {issued.secret}",
                                     "If-Match": f'"{patient.id}-{patient.version}"'})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_session_without_csrf_token_cannot_write_through_the_api(client, logged_in,
                                                                  case_manager):
    patient = make_patient(phone="0300000000")
    logged_in(case_manager)
    response = client.patch(f"/api/v1/patients/{patient.id}", json={"phone": "0611111111"},
                            headers={"If-Match": f'"{patient.id}-{patient.version}"'})
    assert response.status_code == 400
