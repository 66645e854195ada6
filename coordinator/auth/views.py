"""Sign-in, sign-out, password change, and the administrators' user management."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from coordinator.auth import services
from coordinator.auth.forms import LoginForm, PasswordChangeForm, UserCreateForm
from coordinator.auth.models import User
from coordinator.core.hooks import start_session
from coordinator.core.unitofwork import unit_of_work
from coordinator.core.viewhelpers import current_actor, safe_next_url
from coordinator.extensions import db, limiter
from coordinator.permissions import ADMIN, AUTHENTICATED, PUBLIC, require
from coordinator.providers import services as provider_services
from coordinator.providers.forms import KIND_LABELS
from coordinator.strata.models import Territory

bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


def _login_key() -> str:
    email = services.normalize_email(request.form.get("email", ""))[:254]
    return f"{request.remote_addr}|{email}"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_ip_key() -> str:
    return f"login-ip|{request.remote_addr}"


def _login_ip_limit() -> str:
    return current_app.config["LOGIN_IP_RATE_LIMIT"]


def _failed(response) -> bool:
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=_login_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_ip_limit, key_func=_login_ip_key, methods=["POST"], deduct_when=_failed)
@require(PUBLIC)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(db.session, form.email.data, form.password.data,
                                         request.remote_addr,
                                         current_app.config["PASSWORD_HASH_METHOD"])
        except services.LoginRefused as refused:
            db.session.commit()  # keep the audit entry of the failed attempt
            if refused.reason == "disabled":
                flash(_("This account is disabled. Contact your administrator."), "danger")
            elif refused.reason == "integration":
                flash(_("This account is a hospital system's: it sends HL7 messages with its "
                        "API token and does not sign in to the pages."), "danger")
            else:
                flash(_("Wrong e-mail or password."), "danger")
            status = 401
        else:
            session.clear()
            login_user(user)
            session.permanent = True
            start_session()
            db.session.commit()
            return redirect(safe_next_url(request.args.get("next")) or url_for("home.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@require(AUTHENTICATED)
def logout():
    services.end_sessions(db.session, current_user, current_actor())
    db.session.commit()
    locale = current_user.locale or session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale  # the sign-in page stays in the language the user chose
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@require(AUTHENTICATED)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.change_password(
                db.session, current_user, form.current_password.data, form.new_password.data,
                current_app.config["PASSWORD_HASH_METHOD"], current_actor(),
                revoke_api_tokens=form.revoke_tokens.data,
            )
        if work.ok:
            login_user(current_user._get_current_object())  # follow the new session version
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("home.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


@admin_bp.get("/users")
@require(ADMIN)
def users():
    return render_template("auth/users.html", users=services.list_users(db.session))


@admin_bp.route("/users/new", methods=["GET", "POST"])
@require(ADMIN)
def create_user():
    form = UserCreateForm()
    territories = db.session.scalars(select(Territory).order_by(Territory.code)).all()
    form.territory.choices = [("", "—")] + [(t.code, f"{t.code} — {t.name}") for t in territories]
    form.provider_id.choices = [("", "—")] + [
        (p.id, f"{p.name} — {KIND_LABELS[p.kind]} ({p.territory.code})")
        for p in provider_services.active_providers(db.session, None)]
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            user = services.create_user(
                db.session, current_actor(), email=form.email.data, full_name=form.full_name.data,
                role=form.role.data, password=form.password.data,
                territory_code=form.territory.data or None, provider_id=form.provider_id.data,
                hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            )
        if work.ok:
            flash(_("Account %(email)s created.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/user_form.html", form=form), status


@admin_bp.post("/users/<int:user_id>/active")
@require(ADMIN)
def toggle_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)  # CSRF: checked for every POST (hooks)
    with unit_of_work() as work:
        services.set_active(db.session, user, not user.is_active, current_actor())
    if not work.ok:
        return redirect(url_for("admin.users"))
    message = _("Account %(email)s enabled.", email=user.email) if user.is_active else _(
        "Account %(email)s disabled.", email=user.email)
    flash(message, "success")
    return redirect(url_for("admin.users"))


@admin_bp.post("/users/<int:user_id>/tokens/revoke")
@require(ADMIN)
def revoke_tokens(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    count = services.revoke_tokens(db.session, user, current_actor())
    db.session.commit()
    flash(_("%(n)d API token(s) revoked.", n=count), "success")
    return redirect(url_for("admin.users"))
