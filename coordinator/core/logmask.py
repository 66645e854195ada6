"""Secrets and identifiers kept out of the logs (#15, finding 10).

A request line names what it asks for: a calendar feed's address carries its secret token
(`/calendar/feed/<token>.ics`), a search may carry a NIR (`?nir=...`), a sign-in link a token.
`mask` replaces those values by `***`; `MaskingFilter` applies it to the development server's
request log (werkzeug) and `AccessLogger` to gunicorn's access log
(`gunicorn --logger-class coordinator.core.logmask.AccessLogger`, as `make serve` runs it).
SQL parameters (plan text, identities) are kept out of error messages and tracebacks by the
engine's `hide_parameters` (config.py).
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

MASK = "***"
SECRET_PATHS = re.compile(r"(/calendar/feed/)[^/?#\s.]+")
SECRET_PARAMETERS = re.compile(
    r"(?i)((?:^|[?&\s])(?:nir|token|secret|password|access_token)=)[^&#\s]*")
BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")


def mask(text: str) -> str:
    """`text` with feed tokens, secret or identifying query values and bearer tokens masked."""
    text = SECRET_PATHS.sub(lambda found: found.group(1) + MASK, text)
    text = SECRET_PARAMETERS.sub(lambda found: found.group(1) + MASK, text)
    return BEARER.sub(lambda found: found.group(1) + MASK, text)


class MaskingFilter(logging.Filter):
    """Masks a record's message (its arguments merged first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


class AccessLogger(Logger):
    """gunicorn's logger with the request line, path and query string masked."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():  # the request line, path, query, headers, environ
            if isinstance(value, str):
                atoms[key] = mask(value)
        return atoms


def install() -> None:
    """Mask the development server's request log (werkzeug's logger)."""
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(existing, MaskingFilter) for existing in werkzeug.filters):
        werkzeug.addFilter(MaskingFilter())
