"""Error answers: translated HTML pages for people, one JSON shape for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from coordinator.extensions import db

TITLES: dict[int | None, str] = {
    400: _l("Bad request"),
    401: _l("Sign-in required"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    412: _l("Precondition failed"),
    413: _l("Too large"),
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


def _api_errors(error: HTTPException) -> dict:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if isinstance(messages, dict):
        # webargs nests errors by location ("json", "query"): the field names are what matter
        flat: dict = {}
        for location, fields in messages.items():
            if location in ("json", "query", "form", "headers", "view_args", "files") and \
                    isinstance(fields, dict):
                flat.update(fields)
            else:
                flat[location] = fields
        return flat
    return {"_request": [_message(error)]}


def handle_http_error(error: HTTPException) -> Response:
    if error.code is not None and error.code >= 500:
        db.session.rollback()
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
