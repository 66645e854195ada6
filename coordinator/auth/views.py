"""Sign-in, sign-out, password change, and the administrators' user management."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from coordinator.auth import services, twofactor
from coordinator.auth.forms import (
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    SecondFactorForm,
    TwoFactorEnableForm,
    TwoFactorPasswordForm,
    UserCreateForm,
    UserEditForm,
)
from coordinator.auth.models import User
from coordinator.core.hooks import start_session
from coordinator.core.time import utcnow
from coordinator.core.unitofwork import unit_of_work
from coordinator.core.viewhelpers import current_actor, safe_next_url
from coordinator.extensions import db, limiter
from coordinator.permissions import (
    ACCOUNT_HOLDER,
    ADMIN,
    AUTHENTICATED,
    PUBLIC,
    USER_MANAGER,
    require,
)
from coordinator.providers import picking
from coordinator.providers import services as provider_services
from coordinator.strata.models import Territory

bp = Blueprint("auth", __name__)
PENDING = "second_factor"  # session: the sign-in awaiting its second factor
DRAFT_SECRET = "totp_draft"  # noqa: S105 - a session key: the secret offered, until confirmed
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
            next_url = safe_next_url(request.args.get("next"))
            if user.totp_secret is not None:
                session[PENDING] = {"user": user.get_id(), "at": utcnow().timestamp(),
                                    "next": next_url}
                db.session.commit()
                return redirect(url_for("auth.second_factor"))
            _sign_in(user)
            db.session.commit()
            return redirect(next_url or url_for("home.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def _sign_in(user: User) -> None:
    login_user(user)
    session.permanent = True
    start_session()


def _pending_user() -> User | None:
    """The account whose password was accepted in this browser a moment ago and whose second
    factor is awaited, if still valid (same session version, active, in time)."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    waited = utcnow().timestamp() - float(pending.get("at", 0))
    if waited > current_app.config["SECOND_FACTOR_MINUTES"] * 60:
        return None
    try:
        uid, version = (int(part) for part in str(pending.get("user", "")).split(":"))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if (user is None or not user.is_active or user.session_version != version
            or user.totp_secret is None):
        return None
    return user


def _second_factor_key() -> str:
    pending = session.get(PENDING)
    who = pending.get("user", "") if isinstance(pending, dict) else ""
    return f"second-factor|{str(who).split(':')[0]}"


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=_second_factor_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_ip_limit, key_func=_login_ip_key, methods=["POST"], deduct_when=_failed)
@require(PUBLIC)
def second_factor():
    """The second step of a sign-in: the code of the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "warning")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        if twofactor.verify(db.session, user, form.code.data, request.remote_addr):
            next_url = session[PENDING].get("next")
            session.clear()
            _sign_in(user)
            services.record_login(db.session, user, request.remote_addr)
            db.session.commit()
            return redirect(safe_next_url(next_url) or url_for("home.home"))
        db.session.commit()  # keep the audit entry of the failed attempt
        form.code.errors = [_("Wrong code. Type the code your app shows now, or a recovery "
                              "code.")]
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/second_factor.html", form=form), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@require(AUTHENTICATED)
def two_factor():
    """Enrol in the second factor (a secret for the app, a code to prove it), or see it."""
    user = current_user._get_current_object()
    required = twofactor.required_for(user, current_app.config["TOTP_REQUIRED_FOR_ADMINS"])
    if user.totp_secret is not None:
        return render_template(
            "auth/two_factor.html", enabled=True, required=required,
            remaining=twofactor.remaining_recovery_codes(user),
            password_form=TwoFactorPasswordForm())
    secret = session.get(DRAFT_SECRET)
    if not isinstance(secret, str):
        secret = session[DRAFT_SECRET] = twofactor.new_secret()
    form = TwoFactorEnableForm()
    status = 200
    if form.validate_on_submit():
        codes = None
        with unit_of_work(form) as work:
            codes = twofactor.enable(db.session, user, secret, form.code.data, current_actor())
        if work.ok:
            session.pop(DRAFT_SECRET, None)
            return render_template("auth/recovery_codes.html", codes=codes)
    if request.method == "POST":
        status = 400
    uri = twofactor.provisioning_uri(user, secret, current_app.config["TOTP_ISSUER"])
    return render_template("auth/two_factor.html", enabled=False, required=required,
                           secret=secret, uri=uri, form=form), status


def _password_checked(form: TwoFactorPasswordForm) -> bool:
    if not form.validate_on_submit():
        return False
    if not services.password_matches(current_user, form.password.data):
        form.password.errors = [_("The current password is wrong.")]
        return False
    return True


@bp.post("/account/two-factor/disable")
@require(AUTHENTICATED)
def disable_two_factor():
    form = TwoFactorPasswordForm()
    if _password_checked(form):
        with unit_of_work(form) as work:
            twofactor.disable(db.session, current_user, current_actor(),
                              current_app.config["TOTP_REQUIRED_FOR_ADMINS"])
        if work.ok:
            flash(_("The second factor is removed from your account."), "success")
            return redirect(url_for("auth.two_factor"))
    return _two_factor_page_with(form)


@bp.post("/account/two-factor/recovery-codes")
@require(AUTHENTICATED)
def new_recovery_codes():
    if current_user.totp_secret is None:
        return redirect(url_for("auth.two_factor"))
    form = TwoFactorPasswordForm()
    if _password_checked(form):
        codes = twofactor.regenerate_recovery_codes(db.session, current_user, current_actor())
        db.session.commit()
        return render_template("auth/recovery_codes.html", codes=codes)
    return _two_factor_page_with(form)


def _two_factor_page_with(form: TwoFactorPasswordForm):
    user = current_user._get_current_object()
    if user.totp_secret is None:
        return redirect(url_for("auth.two_factor"))
    return render_template(
        "auth/two_factor.html", enabled=True,
        required=twofactor.required_for(user, current_app.config["TOTP_REQUIRED_FOR_ADMINS"]),
        remaining=twofactor.remaining_recovery_codes(user), password_form=form), 400


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


def _account_choices(form: UserCreateForm | UserEditForm, provider_id: int | None = None) -> None:
    """The territories and the directory records an account may have (its own record kept
    even when it is no longer active)."""
    territories = db.session.scalars(select(Territory).order_by(Territory.code)).all()
    form.territory.choices = [("", "—")] + [(t.code, f"{t.code} — {t.name}") for t in territories]
    include = frozenset({provider_id}) if provider_id else frozenset()
    form.provider_id.choices = picking.choices(
        provider_services.active_providers(db.session, None, include), with_territory=True)
    picking.searchable(form.provider_id, None)


@admin_bp.route("/users/new", methods=["GET", "POST"])
@require(ADMIN)
def create_user():
    form = UserCreateForm()
    _account_choices(form)
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


@admin_bp.post("/users/<int:user_id>/two-factor/reset")
@require(ADMIN)
def reset_two_factor(user_id: int):
    """A user who lost their phone and their recovery codes: another administrator removes
    their second factor (and ends their sessions); they enrol again at their next sign-in."""
    user = db.session.get(User, user_id) or abort(404)
    with unit_of_work() as work:
        twofactor.reset(db.session, user, current_actor())
    if work.ok:
        flash(_("Two-step sign-in of %(email)s reset: they set it up again.",
                email=user.email), "success")
    else:
        flash(" ".join(str(m) for messages in work.error.errors.values() for m in messages)
              if work.error else _("Nothing was changed."), "danger")
    return redirect(url_for("admin.users"))


@bp.get("/account")
@require(ACCOUNT_HOLDER)
def account():
    """The signed-in person's account: who they are here, and the directory record their
    account is linked to (a GP's patients are those whose GP is that record)."""
    return render_template("auth/account.html", user=current_user._get_current_object())


@admin_bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require(USER_MANAGER)
def edit_user(user_id: int):
    """Change an account: name, role, territory, directory record, enabled. The account's
    sessions end when what it may open changes (its own too: the view signs it in again)."""
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.role.data = user.role.value
        form.territory.data = user.territory.code if user.territory else ""
        form.state.data = services.account_state(user)
    _account_choices(form, user.provider_id)
    status = 200
    if form.validate_on_submit():
        changed: list[str] = []
        with unit_of_work(form) as work:
            changed = services.update_user(
                db.session, current_actor(), user, full_name=form.full_name.data,
                role=form.role.data, territory_code=form.territory.data or None,
                provider_id=form.provider_id.data, active=bool(form.is_active.data),
                expected_state=form.state.data or None)
        if work.conflict:
            form.state.data = services.account_state(user)
            flash(_("Someone changed this account while you were editing it: its current "
                    "values are shown above the form, your changes are kept in it. Save "
                    "again to apply them."), "warning")
            return render_template("auth/user_edit.html", form=form, user=user,
                                   reset_form=PasswordResetForm(formdata=None),
                                   conflict=True), 409
        if work.ok:
            if user.id == current_user.id and changed:
                login_user(user)  # follow the new session version
            flash(_("Account %(email)s saved.", email=user.email) if changed else
                  _("Nothing was changed."), "success" if changed else "info")
            return redirect(url_for("admin.users"))
    if request.method == "POST":
        status = 400
    return render_template("auth/user_edit.html", form=form, user=user,
                           reset_form=PasswordResetForm(formdata=None)), status


@admin_bp.post("/users/<int:user_id>/password")
@require(USER_MANAGER)
def reset_password(user_id: int):
    """A new generated password for the account, shown once on this answer (never stored in
    clear, never put in the session, a flash message or the audit trail); its sessions end."""
    user = db.session.get(User, user_id) or abort(404)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        flash(_("Your form has expired or is missing its security token. Reload the page "
                "and submit it again."), "danger")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    password = None
    with unit_of_work() as work:
        password = services.reset_password(
            db.session, current_actor(), user, current_app.config["PASSWORD_HASH_METHOD"],
            revoke_api_tokens=bool(form.revoke_tokens.data))
    if not work.ok:
        return redirect(url_for("admin.edit_user", user_id=user.id))
    response = make_response(render_template("auth/password_reset.html", user=user,
                                             password=password))
    response.headers["Cache-Control"] = "private, no-store"
    return response
