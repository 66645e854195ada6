"""Issue #15, finding 2: signing out ends the session on the server; a session has a hard
lifetime beside its idle timeout; a password change signs out everywhere (tokens optionally)."""

from datetime import timedelta

from coordinator.auth import services
from coordinator.auth.models import ApiToken, User
from coordinator.core.context import Actor
from tests.factories import PASSWORD, make_patient

NEW = "une phrase de passe bien plus longue"


def session_cookie(client, app):
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def test_a_cookie_copied_before_logout_no_longer_opens_a_record(app, client, logged_in,
                                                               case_manager):
    patient = make_patient()
    logged_in(case_manager)
    assert client.get(f"/patients/{patient.id}").status_code == 200
    stolen = session_cookie(client, app)
    assert client.post("/logout", data={"csrf_token": client.csrf_token("/")}
                       ).status_code == 302

    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    response = thief.get(f"/patients/{patient.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert thief.get("/api/v1/me").status_code == 401


def test_a_session_in_use_still_ends_after_its_hard_lifetime(app, client, logged_in,
                                                            case_manager):
    logged_in(case_manager)
    assert app.config["SESSION_LIFETIME_HOURS"] == 12
    with client.session_transaction() as flask_session:
        # used a minute ago (not idle), but signed in 12 hours and 1 minute ago
        flask_session["signed_in_at"] -= timedelta(hours=12, minutes=1).total_seconds()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "session has expired" in page or "session a expiré" in page
    assert client.get("/").status_code == 302


def test_the_hard_lifetime_is_configurable(app, client, logged_in, case_manager, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_LIFETIME_HOURS", 1)
    logged_in(case_manager)
    with client.session_transaction() as flask_session:
        flask_session["signed_in_at"] -= timedelta(minutes=59).total_seconds()
    assert client.get("/").status_code == 200
    with client.session_transaction() as flask_session:
        flask_session["signed_in_at"] -= timedelta(minutes=2).total_seconds()
    assert client.get("/").status_code == 302


def test_a_session_without_a_sign_in_time_is_not_accepted(app, client, logged_in,
                                                          case_manager):
    logged_in(case_manager)
    with client.session_transaction() as flask_session:
        del flask_session["signed_in_at"]
    assert client.get("/").status_code == 302


def post_change(client, revoke_tokens=False):
    data = {"csrf_token": client.csrf_token("/account/password"),
            "current_password": PASSWORD, "new_password": NEW, "confirm": NEW}
    if revoke_tokens:
        data["revoke_tokens"] = "y"
    return client.post("/account/password", data=data)


def test_password_change_signs_out_everywhere_and_may_revoke_the_api_tokens(
        app, client, logged_in, case_manager, session):
    issued = services.issue_token(session, case_manager, Actor.system("test"))
    session.commit()
    other = app.test_client()
    assert other.login(case_manager.email).status_code == 302
    logged_in(case_manager)
    page = client.get("/account/password").get_data(as_text=True)
    assert 'name="revoke_tokens"' in page
    assert post_change(client).status_code == 302
    assert other.get("/").status_code == 302
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200  # kept

    global NEW
    previous, NEW = NEW, "encore une autre phrase de passe"
    try:
        data = {"csrf_token": client.csrf_token("/account/password"),
                "current_password": previous, "new_password": NEW, "confirm": NEW,
                "revoke_tokens": "y"}
        assert client.post("/account/password", data=data).status_code == 302
    finally:
        NEW = previous
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert session.get(ApiToken, issued.token.id).revoked_at is not None
    assert client.get("/").status_code == 200  # this browser stays signed in
    assert session.get(User, case_manager.id).session_version > 1
