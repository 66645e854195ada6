"""Request hooks: body encoding check, CSRF, idle-session expiry, the bounds of input (text,
JSON bodies), security headers."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from coordinator.core import bounds
from coordinator.core.time import utcnow
from coordinator.extensions import csrf, login_manager

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# No page uses a device or a payment: a script injected despite the CSP gets none of them.
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), display-capture=(), geolocation=(), "
                      "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), "
                      "usb=(), serial=(), hid=(), bluetooth=(), browsing-topics=()")
# What the server says it is (the `Server` header), without software name or version.
SERVER_NAME = "coordinator"


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


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _check_csrf() -> None:
    """Every browser form carries a CSRF token; API calls that a bearer token did authenticate
    don't (`g.token_auth`, set by the token loader), nor anonymous API calls (there is no
    session to forge: the view answers 401). The mere presence of an `Authorization` header
    skips nothing: an API call that sends one is authenticated by it alone, never by the
    session cookie beside it (auth/loaders.py)."""
    if request.method not in MUTATING:
        return
    if _is_api():
        authenticated = current_user.is_authenticated  # loads the user (and g.token_auth)
        if not authenticated or g.get("token_auth"):
            return
    csrf.protect()


class InputRefused(HTTPException):
    """Input out of bounds: the message on its field, for the API's JSON error shape
    (`data["messages"]`, as flask-smorest's errors carry them) and for the error page."""

    def __init__(self, code: int, field: str, message: Any):
        super().__init__(description=_("%(field)s: %(message)s", field=field, message=message))
        self.code = code
        self.data = {"messages": {field: [str(message)]}}


def _refuse(code: int, field: str, message: Any) -> NoReturn:
    raise InputRefused(code, field, message)


def _check_text() -> None:
    """No NUL character or lone surrogate in a path segment (no such record: 404), a query
    string or a form field (422 naming the parameter on the API, 400 on pages)."""
    for value in (request.view_args or {}).values():
        if bounds.text_problem(value):
            abort(404)
    code = 422 if _is_api() else 400
    for name, value in request.args.items(multi=True):
        for text in (name, value):
            if bounds.text_problem(text):
                _refuse(code, name if text is value else "_request", bounds.text_problem(text))
    if request.method in MUTATING and request.mimetype in ("application/x-www-form-urlencoded",
                                                           "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            if bounds.text_problem(name) or bounds.text_problem(value):
                _refuse(code, name, bounds.NUL_OR_SURROGATE)


def _check_json_body() -> None:
    """An API body: at most MAX_JSON_BYTES (413), nested at most MAX_JSON_DEPTH deep (400),
    and text the database can store (422 naming the field, `goals.0.description`). A body that
    is not JSON is left to the view's parser (400)."""
    if request.method not in MUTATING or not request.is_json:
        return
    limit = current_app.config.get("MAX_JSON_BYTES", bounds.MAX_JSON_BYTES)
    if (request.content_length or 0) > limit:
        abort(413)
    body = request.get_data(cache=True)
    if len(body) > limit:
        abort(413)
    try:
        data = json.loads(body)
    except RecursionError:
        data = None
        too_deep = True
    except ValueError:
        return
    else:
        too_deep = bounds.json_depth_exceeds(data)
    if too_deep:
        _refuse(400, "_request", _("The JSON body is nested too deeply (at most %(n)d levels).",
                                   n=bounds.MAX_JSON_DEPTH))
    field = bounds.forbidden_text_in(data)
    if field is not None:
        _refuse(422, field, bounds.NUL_OR_SURROGATE)


def _check_input() -> None:
    """The bounds of `core/bounds.py` on what the request carries: an address too long is 414
    (answered here in the API's shape, whatever the server in front allows). Anonymous API
    calls are then left to the view, which answers 401 before it reads anything."""
    address = request.environ.get("RAW_URI") or request.full_path
    if len(address) > bounds.MAX_URL_CHARS:
        _refuse(414, "_request", _("The address is too long (at most %(n)d characters): send "
                                   "fewer or shorter parameters.", n=bounds.MAX_URL_CHARS))
    if _is_api() and not current_user.is_authenticated:
        return
    _check_text()
    if _is_api():
        _check_json_body()


def _expire_idle_session() -> Response | None:
    """A browser session unused for SESSION_IDLE_MINUTES ends, and any session
    SESSION_LIFETIME_HOURS after its sign-in, however busy (the cookie is signed again at each
    response, so its own expiry would never come): sign in again. The times are in the signed
    cookie; a session without its sign-in time (older than this rule) has ended too."""
    if not current_user.is_authenticated or g.get("token_auth"):  # the user loaded first
        return None
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    lifetime = timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])
    now = utcnow().timestamp()
    seen = session.get("seen_at")
    signed_in = session.get("signed_in_at")
    if (signed_in is None or now - signed_in > lifetime.total_seconds()
            or (seen is not None and now - seen > idle.total_seconds())):
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


def start_session() -> None:
    """A browser session begins (sign-in): its hard lifetime counts from here."""
    session["signed_in_at"] = utcnow().timestamp()
    touch_session()


def _before_request() -> Response | None:
    if request.endpoint and (request.endpoint == "static" or request.endpoint.endswith(".static")):
        return None
    _check_body_encoding()
    _check_csrf()
    expired = _expire_idle_session()
    if expired is not None:
        return expired
    _check_input()
    return None


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
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


def hide_server_version() -> None:
    """The `Server` header names neither the software nor its version, whichever server runs
    the application: Werkzeug's (`make run`: "Werkzeug/3.1 Python/3.11") or gunicorn's."""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.version_string = lambda self: SERVER_NAME  # type: ignore[method-assign]
    try:
        import gunicorn.http.wsgi as gunicorn_wsgi
    except ImportError:  # pragma: no cover - gunicorn is a dependency
        return
    gunicorn_wsgi.SERVER = SERVER_NAME  # read by each response (Response.version)


def init_app(app: Flask) -> None:
    hide_server_version()
    # Ids in URLs stay within the database's integers: a larger one is no record (404).
    app.url_map.converters["int"] = bounds.IdConverter
    app.before_request(_before_request)
    app.after_request(_security_headers)
