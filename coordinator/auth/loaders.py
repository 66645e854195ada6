"""How a request gets its user: the browser session, or a bearer token on the API."""

from __future__ import annotations

from flask import Flask, current_app, flash, g, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from coordinator.auth import services, twofactor
from coordinator.auth.models import User
from coordinator.extensions import db, login_manager


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return secret.strip()
    return None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Session user: the id carries the session version, so a password change or a
    deactivation ends every session at once."""
    if is_api_request() and request.headers.get("Authorization"):
        return None  # the API call is authenticated by its token alone (load_user_from_token)
    try:
        uid, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or not user.is_active or user.session_version != version:
        return None
    remember_locale(user)
    return user


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    if not is_api_request():
        return None
    secret = bearer_secret()
    if secret is None:
        return None
    user = services.user_for_token(db.session, secret)
    if user is not None:
        g.token_auth = True
        remember_locale(user)
        if db.session.dirty:
            db.session.commit()  # records last_used_at (at most once a minute per token)
    return user


def remember_locale(user: User) -> None:
    """The user's language, kept for the request: choosing the language of a page or an error
    never needs the database (which may be what failed)."""
    g.user_locale = user.locale


@login_manager.unauthorized_handler
def unauthorized():
    if is_api_request():
        response = jsonify(
            {"errors": {"authorization": [str(_l("Authentication required: send a valid "
                                                   "bearer token or sign in."))]}}
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="coordinator"'
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# What an administrator who must enrol in the second factor may still open.
ENROLMENT_OPEN = {"auth.two_factor", "auth.logout", "auth.login", "auth.second_factor",
                  "home.set_language", "home.healthz", "static"}


def require_second_factor_enrolment():
    """With TOTP_REQUIRED_FOR_ADMINS, an administrator signed in without a second factor
    sets one up before anything else (pages: redirected; API with the session: 403)."""
    if not current_app.config["TOTP_REQUIRED_FOR_ADMINS"]:
        return None
    endpoint = request.endpoint or ""
    if endpoint in ENROLMENT_OPEN or endpoint.endswith(".static"):
        return None
    if not current_user.is_authenticated or g.get("token_auth"):
        return None
    if not twofactor.required_for(current_user, True) or current_user.totp_secret:
        return None
    message = _l("Administrators must use two-step sign-in: set it up now to go on.")
    if is_api_request():
        response = jsonify({"errors": {"authorization": [str(message)]}})
        response.status_code = 403
        return response
    flash(message, "warning")
    return redirect(url_for("auth.two_factor"))


# What an account whose password was reset may still open before it chooses its own.
PASSWORD_CHANGE_OPEN = {"auth.change_password", "auth.logout", "auth.login",
                        "auth.second_factor", "home.set_language", "home.healthz", "static"}


def require_password_change():
    """An account signed in with a password an administrator reset (generated, shown to the
    administrator) chooses its own before anything else (pages: redirected; API with the
    session: 403). API tokens are not concerned: the reset can revoke them."""
    endpoint = request.endpoint or ""
    if endpoint in PASSWORD_CHANGE_OPEN or endpoint.endswith(".static"):
        return None
    if not current_user.is_authenticated or g.get("token_auth"):
        return None
    if not current_user.must_change_password:
        return None
    message = _l("Your password was reset by an administrator: choose your own to go on.")
    if is_api_request():
        response = jsonify({"errors": {"authorization": [str(message)]}})
        response.status_code = 403
        return response
    flash(message, "warning")
    return redirect(url_for("auth.change_password"))


def init_app(app: Flask) -> None:
    app.before_request(require_password_change)
    app.before_request(require_second_factor_enrolment)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
