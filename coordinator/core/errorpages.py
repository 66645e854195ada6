"""Error answers: translated HTML pages for people, one JSON shape for the API."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable
from werkzeug.wrappers import Response

from coordinator.core import database
from coordinator.extensions import db, login_manager

RETRY_AFTER_SECONDS = 5  # told to clients when the database is busy or unavailable

TITLES: dict[int | None, str] = {
    400: _l("Bad request"),
    401: _l("Sign-in required"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    412: _l("Precondition failed"),
    413: _l("Too large"),
    414: _l("Address too long"),
    422: _l("Invalid data"),
    428: _l("Precondition required"),
    429: _l("Too many attempts"),
    500: _l("Server error"),
    503: _l("Service unavailable"),
}

MESSAGES = {
    403: _l("You do not have access to this page. If you think you should, "
            "contact your administrator."),
    404: _l("This page does not exist, or you do not have access to it."),
    405: _l("This address does not accept this kind of request."),
    413: _l("What you sent is too large. Send a smaller file or shorter text."),
    429: _l("Too many sign-in attempts. Wait a few minutes, then try again."),
    500: _l("Something went wrong on our side. The error has been logged; "
            "please try again later."),
    503: _l("The database is busy or unavailable, so this request could not be completed. "
            "Try again in a moment."),
}


def _message(error: HTTPException) -> str:
    if isinstance(error, CSRFError):
        return _("Your form has expired or is missing its security token. "
                 "Reload the page and submit it again.")
    if error.code in MESSAGES:
        return str(MESSAGES[error.code])
    if error.description and error.description != type(error).description:
        return str(error.description)
    return str(TITLES.get(error.code, error.name))


LOCATIONS = ("json", "query", "querystring", "form", "headers", "view_args", "files")


def _api_errors(error: HTTPException) -> dict[str, list[str]]:
    """`{field: [message, ...]}`: webargs' locations dropped, nested errors named with dots
    (`goals.0.status`), a lone message made a list, `_request` when no field is at fault."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for location, fields in messages.items():
            if location in LOCATIONS:
                _flatten(fields, "", flat)
            else:
                _flatten({location: fields}, "", flat)
        if flat:
            return flat
    return {"_request": [_message(error)]}


def _flatten(messages: object, prefix: str, flat: dict[str, list[str]]) -> None:
    if isinstance(messages, dict):
        for key, value in messages.items():
            own = str(key) in ("_schema", "_request")
            name = prefix if own and prefix else ("_request" if own else
                                                  ".".join(filter(None, (prefix, str(key)))))
            _flatten(value, name, flat)
    elif isinstance(messages, list | tuple):
        for message in messages:
            _flatten(message, prefix, flat)
    elif messages is not None:
        flat.setdefault(prefix or "_request", []).append(str(messages))


def handle_http_error(error: HTTPException) -> Response:
    """The error page or JSON error. Never needs the database: when building the answer does
    (the signed-in user in the navigation), it is answered without it."""
    original = getattr(error, "original_exception", None)
    if isinstance(error, InternalServerError) and original is not None and \
            database.is_unavailable(original):
        return _unavailable(original)
    if error.code is not None and error.code >= 500:
        database.rollback(db.session)
    try:
        return _respond(error)
    except exc.SQLAlchemyError:
        _without_database()
        return _respond(error)


def handle_database_error(error: exc.SQLAlchemyError) -> Response:
    """A database that cannot serve now (locked past the busy timeout, unreachable, read-only,
    full, gone mid-request) answers 503, everything of the request rolled back; any other
    database error is a bug, left to Flask (logged, 500)."""
    if not database.is_unavailable(error):
        raise error
    current_app.logger.warning("database unavailable on %s %s: %s", request.method,
                               request.path, error, exc_info=error)
    return _unavailable(error)


def _unavailable(error: BaseException) -> Response:
    database.rollback(db.session)
    _without_database()
    response = _respond(ServiceUnavailable())
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _without_database() -> None:
    """From here on the request does not touch the database: the page shows no signed-in user
    (its attributes would be reloaded) and the language is the session's or the browser's."""
    g.database_unavailable = True
    g._login_user = login_manager.anonymous_user()


def _respond(error: HTTPException) -> Response:
    if request.path.startswith("/api/"):
        response = jsonify({"errors": _api_errors(error)})
        response.status_code = error.code or 500
        for key, value in ((getattr(error, "data", None) or {}).get("headers") or {}).items():
            response.headers[key] = value
        return response
    code = error.code or 500
    body = render_template(
        "errors/error.html", code=code, title=TITLES.get(code, error.name), message=_message(error)
    )
    page = error.get_response()
    page.set_data(body)
    page.mimetype = "text/html"
    return page


def init_app(app: Flask) -> None:
    # Unexpected exceptions reach this handler as InternalServerError after Flask logged them.
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(exc.DBAPIError, handle_database_error)
    app.register_error_handler(exc.TimeoutError, handle_database_error)
