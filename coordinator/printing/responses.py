"""The HTTP answers of a print, for every view that prints (care plans, the council report):
the PDF itself, and the error page of a print that failed."""

from __future__ import annotations

from flask import Response, render_template
from flask_babel import gettext as _

from coordinator.extensions import db
from coordinator.printing.pdf import PrintFailed


def pdf_response(pdf: bytes, filename: str) -> Response:
    """The PDF shown in the browser, never kept by a cache."""
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def print_failed(error: PrintFailed):  # type: ignore[no-untyped-def]
    """The error page of a print that failed (503): what happened, what to do; nothing
    written."""
    db.session.rollback()
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
    return render_template("errors/error.html", code=503, title=_("Service unavailable"),
                           message=error.user_message()), 503, headers
