"""Issue #15, finding 8: the optional TOTP second factor, with one-time recovery codes;
required of administrators when TOTP_REQUIRED_FOR_ADMINS is set."""

import re
import time

import pyotp
import pytest
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.auth import twofactor
from coordinator.auth.models import User
from coordinator.core.context import Actor
from tests.factories import PASSWORD, make_patient

SECRET_RE = re.compile(r'data-testid="totp-secret">([A-Z2-7]+)<')
CODES_RE = re.compile(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>")


def enrol(client):
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1)
    response = client.post("/account/two-factor", data={
        "csrf_token": client.csrf_token("/account/two-factor"),
        "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = CODES_RE.findall(response.get_data(as_text=True))
    assert len(codes) == twofactor.RECOVERY_CODES
    return secret, codes


def second_step(client, code):
    return client.post("/login/second-factor", data={
        "csrf_token": client.csrf_token("/login/second-factor"), "code": code})


def logins(session, user):
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "login", AuditEntry.actor_user_id == user.id))


@pytest.fixture
def enrolled(client, logged_in, case_manager, session):
    logged_in(case_manager)
    secret, codes = enrol(client)
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    # the code used to enrol is spent: sign-ins below use the codes of other time steps
    return secret, codes


def test_with_a_second_factor_the_password_alone_does_not_sign_in(client, case_manager,
                                                                 enrolled, session):
    patient = make_patient()
    before = logins(session, case_manager)
    response = client.login(case_manager.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/second-factor"
    assert client.get(f"/patients/{patient.id}").status_code == 302  # not signed in yet
    assert client.get("/api/v1/me").status_code == 401
    assert second_step(client, "000000").status_code == 401
    assert logins(session, case_manager) == before


def test_the_code_of_the_app_completes_the_sign_in_once(app, client, case_manager, enrolled,
                                                       session):
    secret, _codes = enrolled
    client.login(case_manager.email)
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step (clock drift allowed)
    response = second_step(client, code)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert logins(session, case_manager) == 2  # enrolment's sign-in, then this one
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    client.login(case_manager.email)
    assert second_step(client, code).status_code == 401  # the same code is not taken twice


def test_a_recovery_code_works_once(client, case_manager, enrolled, session):
    _secret, codes = enrolled
    client.login(case_manager.email)
    assert second_step(client, codes[0].upper().replace("-", " ")).status_code == 302
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    client.login(case_manager.email)
    assert second_step(client, codes[0]).status_code == 401
    assert second_step(client, codes[1]).status_code == 302
    user = session.get(User, case_manager.id)
    assert twofactor.remaining_recovery_codes(user) == twofactor.RECOVERY_CODES - 2


def test_the_second_step_without_a_password_first_goes_back_to_sign_in(client):
    response = client.get("/login/second-factor")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_wrong_codes_are_throttled(client, case_manager, enrolled):
    client.login(case_manager.email)
    for _ in range(5):
        assert second_step(client, "123456").status_code == 401
    assert second_step(client, "654321").status_code == 429


def test_a_wrong_enrolment_code_is_named_on_its_field(client, logged_in, case_manager,
                                                     session):
    logged_in(case_manager)
    client.get("/account/two-factor")
    response = client.post("/account/two-factor", data={
        "csrf_token": client.csrf_token("/account/two-factor"), "code": "000000"})
    assert response.status_code == 400
    assert 'id="code-error"' in response.get_data(as_text=True)
    assert session.get(User, case_manager.id).totp_secret is None


def test_turning_it_off_needs_the_password(client, logged_in, case_manager, session):
    logged_in(case_manager)
    enrol(client)
    token = client.csrf_token("/account/two-factor")
    response = client.post("/account/two-factor/disable",
                           data={"csrf_token": token, "password": "not my password"})
    assert response.status_code == 400
    assert session.get(User, case_manager.id).totp_secret is not None
    client.post("/account/two-factor/disable", data={
        "csrf_token": client.csrf_token("/account/two-factor"), "password": PASSWORD})
    session.expire_all()
    assert session.get(User, case_manager.id).totp_secret is None


def test_administrators_must_enrol_when_required(app, client, logged_in, admin, monkeypatch,
                                                session):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_FOR_ADMINS", True)
    logged_in(admin)
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/two-factor"
    assert client.get("/api/v1/me").status_code == 403
    enrol(client)
    assert client.get("/admin/users").status_code == 200
    response = client.post("/account/two-factor/disable", data={
        "csrf_token": client.csrf_token("/account/two-factor"), "password": PASSWORD})
    assert response.status_code == 400  # an administrator keeps it
    assert session.get(User, admin.id).totp_secret is not None


def test_other_roles_are_not_forced(app, client, logged_in, case_manager, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_FOR_ADMINS", True)
    logged_in(case_manager)
    assert client.get("/").status_code == 200


def test_a_code_of_the_previous_step_is_refused_after_a_newer_one(session, case_manager):
    secret = twofactor.new_secret()
    now = time.time()
    twofactor.enable(session, case_manager, secret, pyotp.TOTP(secret).at(now), Actor.system(),
                     now=now)
    older = pyotp.TOTP(secret).at(now - 30)
    assert not twofactor.verify(session, case_manager, older, None, now=now)
    assert twofactor.verify(session, case_manager, pyotp.TOTP(secret).at(now + 30), None,
                            now=now)


def test_an_administrator_resets_anothers_second_factor_not_their_own(client, logged_in, admin,
                                                                     case_manager, session):
    secret = twofactor.new_secret()
    now = time.time()
    for user in (case_manager, admin):
        twofactor.enable(session, user, secret, pyotp.TOTP(secret).at(now), Actor.system(),
                         now=now)
    session.commit()
    logged_in(admin)
    second_step(client, pyotp.TOTP(secret).at(now + 30))
    assert client.get("/admin/users").status_code == 200
    token = client.csrf_token("/admin/users")
    client.post(f"/admin/users/{admin.id}/two-factor/reset", data={"csrf_token": token})
    assert session.get(User, admin.id).totp_secret is not None
    version = session.get(User, case_manager.id).session_version
    client.post(f"/admin/users/{case_manager.id}/two-factor/reset", data={"csrf_token": token})
    session.expire_all()
    reset = session.get(User, case_manager.id)
    assert reset.totp_secret is None and reset.recovery_codes == []
    assert reset.session_version == version + 1
