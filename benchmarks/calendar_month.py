"""Benchmark: a provider's month view with 2 000 appointments (aim: ≤ 150 ms server time).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coordinator_bench \
        .venv/bin/python benchmarks/calendar_month.py [--appointments 2000] [--repeat 20]

Builds a fresh schema in the given database (SQLite file by default), bulk-loads one provider
with N appointments spread over one month (200 patients, 07:00-20:00 Paris), then times the
provider's month view through the Flask test client signed in as an administrator (the whole
request: query, audit entry and commit, template), and for comparison the week view and the
provider's iCalendar feed. Prints markdown table rows (median and p95) for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
from sqlalchemy import insert, select, text

from coordinator import create_app
from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.core.normalize import fold
from coordinator.core.time import PARIS
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling import feeds
from coordinator.scheduling.models import Appointment
from coordinator.strata.models import Territory
from coordinator.strata.services import load_reference_data

MONTH = date(2026, 10, 1)  # holds the change to winter time (25 October)
PATIENTS = 200


def load(n: int, rng: random.Random) -> int:
    """One provider, PATIENTS patients, n appointments in MONTH; returns the provider's id."""
    territory = db.session.scalar(select(Territory.id).where(Territory.code == "DOUAISIS"))
    provider = Provider(kind="nurse", name="Infirmière Bench", name_folded=fold("Infirmière "
                        "Bench"), territory_id=territory)
    db.session.add(provider)
    db.session.flush()
    db.session.execute(insert(Patient), [{
        "id": i + 1, "birth_name": f"Patient{i}", "first_names": "Marie",
        "birth_name_folded": fold(f"Patient{i}"), "first_name_folded": "marie",
        "used_name_folded": None, "birth_date": date(1940 + i % 40, 1 + i % 12, 1 + i % 28),
        "sex": "F", "territory_id": territory, "identity_status": "provisional",
        "consent_share": False, "advance_directives": False, "version": 1,
    } for i in range(PATIENTS)])
    rows = []
    for _ in range(n):
        local = datetime(MONTH.year, MONTH.month, rng.randint(1, 31), rng.randint(7, 19),
                         rng.choice((0, 15, 30, 45)), tzinfo=PARIS)
        starts_at = local.astimezone(UTC)
        rows.append({"patient_id": rng.randint(1, PATIENTS), "provider_id": provider.id,
                     "kind": rng.choice(("consultation", "home_visit")),
                     "starts_at": starts_at, "duration_minutes": 30,
                     "ends_at": starts_at + timedelta(minutes=30),
                     "status": rng.choice(("scheduled", "scheduled", "attended", "no_show")),
                     "created_by": "bench", "version": 1})
    db.session.execute(insert(Appointment), rows)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return provider.id


def sign_in_admin(client) -> None:
    admin = User(email="bench-admin@x", full_name="Bench", role="admin", password_hash="-")
    db.session.add(admin)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
        session["_fresh"] = True


def time_request(client, path: str, repeat: int) -> tuple[float, float, int]:
    timings, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        size = len(response.data)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)], size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or \
        f"sqlite:///{tempfile.mkdtemp()}/bench-calendar.sqlite3"
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        provider_id = load(args.appointments, random.Random(7))
        _feed, token = feeds.create_feed(db.session, Actor.system("bench"),
                                         provider=db.session.get(Provider, provider_id))
        db.session.commit()
        client = app.test_client()
        sign_in_admin(client)
        day = MONTH.replace(day=26).isoformat()
        pages = [
            ("provider month view", f"/calendar/provider/{provider_id}?view=month&date={day}"),
            ("provider week view", f"/calendar/provider/{provider_id}?view=week&date={day}"),
            ("provider iCalendar feed (whole month)", f"/calendar/feed/{token}.ics"),
        ]
        client.get(pages[0][1])  # warm-up: templates compiled, connections opened
        name = db.engine.dialect.name
        print(f"| calendar ({name}, {args.appointments} appointments in one month) "
              "| median ms | p95 ms | answer |")
        print("|---|---|---|---|")
        for label, path in pages:
            median, p95, size = time_request(client, path, args.repeat)
            print(f"| {label} | {median:.1f} | {p95:.1f} | {size // 1024} KiB |")


if __name__ == "__main__":
    main()
