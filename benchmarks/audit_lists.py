"""Benchmark: the cost of one audit entry per patient shown by a list (issue #15, finding 6).

    nice .venv/bin/python benchmarks/audit_lists.py [--repeat 15]
    DATABASE_URL=postgresql+psycopg://... .venv/bin/python benchmarks/audit_lists.py

Builds a fresh schema (SQLite file by default), bulk-loads 200 patients named "Bench…", then
times the patient search page (`/patients/?name=bench&per_page=N`, signed in as an
administrator: the whole request, queries, audit entries, commit, template) showing 50 and
200 patients, with the per-patient entries (`audit.record_shown`, one INSERT … executemany) and
without them (the same function made to write the single criteria entry of before). Also
times `record_shown` alone (the insert and its commit). Prints markdown table rows (median and
p95) for docs/performance.md. Runs in well under a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select, text
from werkzeug.security import generate_password_hash

from coordinator import create_app
from coordinator.audit import services as audit
from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.core.normalize import fold
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.strata.models import Territory
from coordinator.strata.services import load_reference_data

PATIENTS = 200


def load() -> None:
    territory = db.session.scalar(select(Territory.id).where(Territory.code == "DOUAISIS"))
    db.session.execute(insert(Patient), [{
        "birth_name": f"Bench{i:03d}", "first_names": "Marie",
        "birth_name_folded": fold(f"Bench{i:03d}"), "first_name_folded": "marie",
        "used_name_folded": None, "birth_date": date(1940 + i % 40, 1 + i % 12, 1 + i % 28),
        "sex": "F", "territory_id": territory, "identity_status": "provisional",
        "consent_share": False, "advance_directives": False, "version": 1,
    } for i in range(PATIENTS)])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


PASSWORD = "bench horse battery staple"


class Client(FlaskClient):
    """Each request starts with a clean `g`, as in production (the benchmark keeps one
    application context open)."""

    def open(self, *args, **kwargs):
        for key in list(g):
            g.pop(key, None)
        return super().open(*args, **kwargs)


def sign_in_admin(client) -> None:
    admin = User(email="bench-admin@example.test", full_name="Bench", role="admin",
                 password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
    db.session.add(admin)
    db.session.commit()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/login").get_data(as_text=True))
    assert token, "no CSRF token on /login"
    response = client.post("/login", data={"csrf_token": token.group(1), "email": admin.email,
                                           "password": PASSWORD})
    assert response.status_code == 302, response.status_code


def percentiles(timings: list[float]) -> tuple[float, float]:
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def time_request(client, path: str, repeat: int) -> tuple[float, float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return percentiles(timings)


def time_insert(count: int, repeat: int) -> tuple[float, float]:
    ids = list(db.session.scalars(select(Patient.id).limit(count)))
    actor = Actor(user_id=None, label="bench", ip_address="127.0.0.1")
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        audit.record_shown(db.session, actor, "patient_search", ids, summary="bench",
                           details={"criteria": {"name": "bench"}})
        db.session.commit()
        timings.append((time.perf_counter() - started) * 1000)
    return percentiles(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or \
        f"sqlite:///{tempfile.mkdtemp()}/bench-audit-lists.sqlite3"
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        load()
        app.test_client_class = Client
        client = app.test_client()
        sign_in_admin(client)
        client.get("/patients/?name=bench&per_page=50")  # warm-up
        per_patient = audit.record_shown

        def one_entry(session, actor, what, patient_ids, **kwargs):  # the behaviour before
            return per_patient(session, actor, what, [], **kwargs)

        name = db.engine.dialect.name
        print(f"| audited lists ({name}, patient search page, {args.repeat} requests) "
              "| entries per request | median ms | p95 ms |")
        print("|---|---|---|---|")
        for shown in (50, 200):
            path = f"/patients/?name=bench&per_page={shown}"
            for label, recorder, entries in (("one criteria entry (before)", one_entry, 1),
                                             ("one entry per patient shown", per_patient,
                                              shown)):
                audit.record_shown = recorder  # type: ignore[assignment]
                before = db.session.scalar(select(func.count()).select_from(AuditEntry))
                median, p95 = time_request(client, path, args.repeat)
                written = db.session.scalar(select(func.count()).select_from(AuditEntry))
                assert written - before == entries * args.repeat, (written - before, entries)
                print(f"| {shown} patients, {label} | {entries} | {median:.1f} | {p95:.1f} |")
        audit.record_shown = per_patient  # type: ignore[assignment]
        for count in (50, 200):
            median, p95 = time_insert(count, args.repeat)
            print(f"| `record_shown` alone, {count} entries + commit | {count} | {median:.2f} "
                  f"| {p95:.2f} |")


if __name__ == "__main__":
    main()
