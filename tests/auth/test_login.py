"""Signing in and out, sessions, throttling, and the bad input of the sign-in form."""

from datetime import timedelta

from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from tests.factories import PASSWORD


def audit_count(session, action):
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == action))


def test_login_lands_on_the_role_home_page_and_is_audited(client, make_user, session):
    user = make_user(role="council", email="council@example.test")
    response = client.login("Council@Example.test ")  # case and spaces do not matter
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="home-title">Territorial dashboard<' in page
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "login")).one()
    assert entry.actor_user_id == user.id
    assert entry.ip_address == "127.0.0.1"
    assert session.get(User, user.id).last_login_at is not None


def test_session_cookie_is_httponly_and_samesite_lax(client, case_manager):
    response = client.login(case_manager.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_wrong_password_and_unknown_user_get_the_same_clear_message(client, case_manager,
                                                                    session):
    for email, password in ((case_manager.email, "wrong password!"),
                            ("nobody@example.test", PASSWORD)):
        response = client.login(email, password)
        assert response.status_code == 401
        body = response.get_data(as_text=True)
        assert "Wrong e-mail or password." in body or "Adresse e-mail ou mot de passe incorrect" \
            in body
        assert "Traceback" not in body
    assert client.get("/").status_code == 302  # still signed out
    assert audit_count(session, "login_failed") == 2


def test_disabled_user_cannot_sign_in(client, make_user):
    user = make_user(is_active=False)
    response = client.login(user.email)
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "disabled" in body or "désactivé" in body
    assert client.get("/").status_code == 302


def test_disabling_a_user_ends_their_session(client, logged_in, case_manager, session):
    logged_in(case_manager)
    assert client.get("/").status_code == 200
    case_manager.is_active = False
    case_manager.session_version += 1
    session.commit()
    assert client.get("/").status_code == 302


def test_missing_csrf_token_is_refused_and_nothing_happens(client, case_manager):
    response = client.post("/login", data={"email": case_manager.email, "password": PASSWORD})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "security token" in body or "jeton de sécurité" in body
    assert client.get("/").status_code == 302


def test_expired_session_asks_to_sign_in_again(client, logged_in, case_manager, app):
    logged_in(case_manager)
    with client.session_transaction() as flask_session:
        flask_session["seen_at"] -= timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1
                                              ).total_seconds()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "session has expired" in page or "session a expiré" in page


def test_login_is_throttled_after_repeated_failures(client, case_manager):
    for _ in range(5):
        assert client.login(case_manager.email, "not the password").status_code == 401
    response = client.login(case_manager.email, PASSWORD)
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "Too many sign-in attempts" in body or "Trop de tentatives" in body


def test_successful_logins_do_not_count_towards_the_throttle(client, case_manager):
    for _ in range(7):
        assert client.login(case_manager.email).status_code == 302
        client.post("/logout", data={"csrf_token": client.csrf_token("/")})


def test_logout_ends_the_session_and_is_audited(client, logged_in, case_manager, session):
    logged_in(case_manager)
    response = client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert audit_count(session, "logout") == 1


def test_logout_needs_the_csrf_token(client, logged_in, case_manager):
    logged_in(case_manager)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_open_redirect_after_login_is_refused(client, case_manager):
    token = client.csrf_token("/login")
    response = client.post("/login?next=https://evil.example/", data={
        "csrf_token": token, "email": case_manager.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_oversized_form_gets_413_and_a_clear_message(client, case_manager):
    token = client.csrf_token("/login")
    response = client.post("/login", data={"csrf_token": token, "email": case_manager.email,
                                           "password": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "too large" in body or "trop volumineux" in body
    assert "Traceback" not in body


def test_non_utf8_body_gets_400_and_a_clear_message(client, case_manager):
    token = client.csrf_token("/login")
    response = client.post(
        "/login", data=f"csrf_token={token}&email=%FF%FE&password=x".encode(),
        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "UTF-8" in body
