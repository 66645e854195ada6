"""Secrets and identifiers out of the logs (#15, finding 10): feed tokens, NIRs and tokens in
request lines, SQL parameters in database errors."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import exc, text

from coordinator.core import logmask
from coordinator.extensions import db

TOKEN = "Zx8_secretFeedToken-0123456789abcdef"
NIR = "148035917801213"


def test_request_lines_lose_their_secrets():
    assert logmask.mask(f"GET /calendar/feed/{TOKEN}.ics HTTP/1.1") == \
        "GET /calendar/feed/***.ics HTTP/1.1"
    assert logmask.mask(f"GET /patients/?name=dup&nir={NIR}&page=2 HTTP/1.1") == \
        "GET /patients/?name=dup&nir=***&page=2 HTTP/1.1"
    assert logmask.mask(f"GET /api/v1/patients?nir={NIR}") == "GET /api/v1/patients?nir=***"
    assert logmask.mask(f"Authorization: Bearer {TOKEN}") == "Authorization: Bearer ***"
    assert logmask.mask("GET /patients/4 HTTP/1.1") == "GET /patients/4 HTTP/1.1"


def test_the_development_servers_request_log_is_masked(app, caplog):
    logger = logging.getLogger("werkzeug")
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logger.info('%s - - "%s" %s -', "127.0.0.1", f"GET /calendar/feed/{TOKEN}.ics HTTP/1.1",
                    200)
    assert TOKEN not in caplog.text and "/calendar/feed/***.ics" in caplog.text


def test_gunicorns_access_log_is_masked():
    from gunicorn.config import Config

    logger = logmask.AccessLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/calendar/feed/{TOKEN}.ics?nir={NIR}",
               "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": f"/calendar/feed/{TOKEN}.ics",
               "QUERY_STRING": f"nir={NIR}", "REMOTE_ADDR": "127.0.0.1"}
    atoms = logger.atoms(SimpleNamespace(status="200 OK", sent=10, headers=[]), {}, environ,
                         timedelta(milliseconds=5))
    assert TOKEN not in str(atoms) and NIR not in str(atoms)
    assert atoms["r"] == "GET /calendar/feed/***.ics?nir=*** HTTP/1.1"


def test_a_database_error_does_not_carry_the_values(app):
    with pytest.raises(exc.DBAPIError) as caught:
        db.session.execute(text("SELECT CAST(:plan AS INTEGER) FROM no_such_table"),
                           {"plan": "Insuffisance cardiaque, vit seule"})
    db.session.rollback()
    assert "Insuffisance cardiaque" not in str(caught.value)
