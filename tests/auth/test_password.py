from sqlalchemy import select
from werkzeug.security import check_password_hash

from coordinator.auth.models import User
from tests.factories import PASSWORD

NEW = "a much longer new password"


def post_change(client, current, new, confirm=None):
    token = client.csrf_token("/account/password")
    return client.post("/account/password", data={
        "csrf_token": token, "current_password": current, "new_password": new,
        "confirm": confirm if confirm is not None else new})


def test_password_change_keeps_this_session_and_ends_the_others(app, client, logged_in,
                                                                case_manager, session):
    logged_in(case_manager)
    other = app.test_client()
    assert other.login(case_manager.email).status_code == 302
    response = post_change(client, PASSWORD, NEW)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302  # the other browser must sign in again
    user = session.scalar(select(User).where(User.id == case_manager.id))
    assert check_password_hash(user.password_hash, NEW)


def test_wrong_current_password_is_named_on_its_field(client, logged_in, case_manager, session):
    logged_in(case_manager)
    response = post_change(client, "not my password", NEW)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="current_password-error"' in body
    assert check_password_hash(session.get(User, case_manager.id).password_hash, PASSWORD)


def test_short_or_mismatched_new_password_is_refused(client, logged_in, case_manager):
    logged_in(case_manager)
    assert 'id="new_password-error"' in post_change(client, PASSWORD, "short").get_data(
        as_text=True)
    assert 'id="confirm-error"' in post_change(client, PASSWORD, NEW, NEW + "x").get_data(
        as_text=True)


def test_passwords_are_stored_with_a_strong_hash(app, session):
    from coordinator.auth.services import hash_password

    assert hash_password("whatever it is", "scrypt").startswith("scrypt:")
    assert app.config["PASSWORD_HASH_METHOD"] != "plain"


def test_admin_creates_a_gp_account_linked_to_the_directory(client, logged_in, admin, session):
    from tests.factories import make_provider

    gp = make_provider(kind="gp", name="Dr Claire Martin")
    nurse = make_provider(kind="nurse")
    logged_in(admin)
    data = {"csrf_token": client.csrf_token("/admin/users/new"), "email": "claire@example.org",
            "full_name": "Claire Martin", "role": "gp", "territory": "",
            "provider_id": str(nurse.id), "password": "a long enough password"}
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 400
    assert 'id="provider_id-error"' in response.get_data(as_text=True)
    data.update(provider_id=str(gp.id), csrf_token=client.csrf_token("/admin/users/new"))
    assert client.post("/admin/users/new", data=data).status_code == 302
    from coordinator.auth.services import find_user

    assert find_user(session, "claire@example.org").provider_id == gp.id


def test_an_administrator_cannot_disable_their_own_account(client, logged_in, admin, session):
    from coordinator.auth.models import User

    logged_in(admin)
    response = client.post(f"/admin/users/{admin.id}/active",
                           data={"csrf_token": client.csrf_token("/admin/users")})
    assert response.status_code == 302
    assert session.get(User, admin.id).is_active is True
    assert client.get("/admin/users").status_code == 200  # still signed in


def test_admin_disables_another_account(client, logged_in, admin, case_manager, session):
    from coordinator.auth.models import User

    logged_in(admin)
    client.post(f"/admin/users/{case_manager.id}/active",
                data={"csrf_token": client.csrf_token("/admin/users")})
    assert session.get(User, case_manager.id).is_active is False
