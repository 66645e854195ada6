"""Request hooks: body encoding check, CSRF, idle-session expiry, security headers."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from coordinator.core.time import utcnow
from coordinator.extensions import csrf, login_manager

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _check_body_encoding() -> None:
    """Form bodies must be UTF-8: refuse garbled text instead of storing replacement characters."""
    if request.method not in MUTATING or request.mimetype != "application/x-www-form-urlencoded":
        return
    try:
        parse_qsl(
            request.get_data(cache=True).decode("ascii"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
        )
    except UnicodeDecodeError:
        abort(400, description=_("The submitted text is not valid UTF-8. "
                                 "Check the encoding of what you sent."))


def _check_csrf() -> None:
    """Every browser form carries a CSRF token; API calls authenticated by bearer token don't."""
    if request.method not in MUTATING:
        return
    if request.path.startswith("/api/") and request.headers.get("Authorization", "").lower(
    ).startswith("bearer "):
        return
    csrf.protect()


def _expire_idle_session() -> Response | None:
    """A browser session unused for SESSION_IDLE_MINUTES ends: sign in again."""
    if g.get("token_auth") or not current_user.is_authenticated:
        return None
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    now = utcnow()
    seen = session.get("seen_at")
    if seen is not None and now.timestamp() - seen > idle.total_seconds():
        logout_user()
        session.clear()
        if request.path.startswith("/api/"):
            return login_manager.unauthorized()
        flash(_("Your session has expired. Please sign in again."), "warning")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    touch_session()
    return None


def touch_session() -> None:
    """Record activity on the browser session (idle expiry counts from here)."""
    session["seen_at"] = utcnow().timestamp()


def _before_request() -> Response | None:
    if request.endpoint and (request.endpoint == "static" or request.endpoint.endswith(".static")):
        return None
    _check_body_encoding()
    _check_csrf()
    return _expire_idle_session()


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint and not request.endpoint.endswith("static"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_before_request)
    app.after_request(_security_headers)
