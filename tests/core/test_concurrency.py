"""Concurrent use of one database, for real: threads, each request with its own application
context, session and connection, on a database file of their own (on SQLite, the embedded
default: its one writer at a time must make writers wait, never fail).

Figures are printed (run with `-s` to see them): requests, failures, time.
"""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.auth.models import ApiToken
from coordinator.careplans.models import CarePlan
from coordinator.core.context import Actor
from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.imports import engine
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from tests import dbutil, factories
from tests.core.live import NO_ANSWER, USERS, status, together

pytestmark = pytest.mark.live_database
CLIENTS = USERS
REQUESTS = 10
ROUNDS = 15


def report(name: str, statuses: list[int], seconds: float) -> None:
    failures = sum(1 for code in statuses if code >= 500 or code == NO_ANSWER)
    print(f"\n{name}: {len(statuses)} requests, {failures} failures, "
          f"{dict(sorted(Counter(statuses).items()))}, {seconds:.2f} s")


def test_api_clients_reading_their_profile_all_succeed(live):
    """6 API clients x 10 `GET /api/v1/me` (a bearer token each, its last use recorded)."""

    def client_run(index):
        client = live.app.test_client()
        return [status(lambda: client.get("/api/v1/me", headers=live.headers(index)))
                for _ in range(REQUESTS)]

    started = time.monotonic()
    statuses = [status for run in together(CLIENTS, client_run) for status in run]
    report("GET /api/v1/me", statuses, time.monotonic() - started)
    assert statuses == [200] * CLIENTS * REQUESTS
    # the token's last use is kept (once a minute at most: one write per token here)
    assert live.scalar(select(func.count()).select_from(ApiToken)
                       .where(ApiToken.last_used_at.is_not(None))) == CLIENTS


def test_concurrent_writers_and_audited_readers_give_no_error(live):
    """Each client opens its patient (an audited read: it writes its audit entry after reading)
    and saves its patient's care plan (a write), interleaved with every other client."""
    with live.app.app_context():
        plans = [factories.make_care_plan(factories.make_patient()) for _ in range(CLIENTS)]
        owned = [(plan.patient_id, plan.id, f'"{plan.id}-{plan.version}"') for plan in plans]
        db.session.remove()

    def client_run(index):
        client = live.app.test_client()
        patient_id, plan_id, etag = owned[index]
        statuses = []
        for number in range(REQUESTS):
            try:
                if number % 2:
                    response = client.patch(f"/api/v1/careplans/{plan_id}",
                                            json={"priorities": f"Version {number}"},
                                            headers=live.headers(index, **{"If-Match": etag}))
                    etag = response.headers.get("ETag", etag)
                else:
                    response = client.get(f"/api/v1/patients/{patient_id}",
                                          headers=live.headers(index))
                statuses.append(response.status_code)
            except Exception:
                statuses.append(NO_ANSWER)
        return statuses

    before = live.scalar(select(func.count()).select_from(AuditEntry))
    started = time.monotonic()
    statuses = [status for run in together(CLIENTS, client_run) for status in run]
    report("GET /api/v1/patients/<id> + PATCH /api/v1/careplans/<id>", statuses,
           time.monotonic() - started)
    assert statuses == [200] * CLIENTS * REQUESTS
    versions = live.scalar(select(func.sum(CarePlan.version)))
    assert versions == CLIENTS * (1 + REQUESTS // 2)  # every save is one new version
    # every request audited: the reads and the saves (one entry at least each)
    assert live.scalar(select(func.count()).select_from(AuditEntry)) - before >= len(statuses)


def test_two_patches_with_the_same_etag_give_one_success_and_one_412(live):
    with live.app.app_context():
        plan = factories.make_care_plan(db.session.get(Patient, live.patient_id))
        plan_id = plan.id
        db.session.remove()
    outcomes: Counter = Counter()
    for round_number in range(ROUNDS):
        version = live.scalar(select(CarePlan.version).where(CarePlan.id == plan_id))
        etag = f'"{plan_id}-{version}"'

        def patch(index, round_number=round_number, etag=etag):
            client = live.app.test_client()
            return status(lambda: client.patch(
                f"/api/v1/careplans/{plan_id}",
                json={"priorities": f"Round {round_number}, client {index}"},
                headers=live.headers(index, **{"If-Match": etag})))

        outcomes[tuple(sorted(together(2, patch)))] += 1
    print(f"\ntwo PATCHes, same ETag, {ROUNDS} rounds: {dict(outcomes)}")
    assert outcomes == {(200, 412): ROUNDS}
    assert live.scalar(select(CarePlan.version).where(CarePlan.id == plan_id)) == 1 + ROUNDS


def providers_csv(count: int) -> bytes:
    lines = ["external_id,kind,name,territory_code,city"]
    lines += [f"IMP-{number:06d},gp,Dr Import {number},DOUAISIS,Douai" for number in range(count)]
    return ("\n".join(lines) + "\n").encode()


def test_a_web_write_waits_for_a_long_import_transaction_and_both_succeed(live):
    """A CLI import writes a large file in one transaction (SQLite: holding the write lock from
    its start). Meanwhile a read answers at once, and a web write waits for the import, then
    succeeds: both are committed."""
    data = providers_csv(6000)
    first_batch_written = threading.Event()
    outcome: dict = {}

    def progress(done_bytes: int, rows: int) -> None:
        if not first_batch_written.is_set():
            first_batch_written.set()
            time.sleep(1.5)  # a slow file: the import's transaction stays open

    def cli_import():
        with live.app.app_context():  # no request: as `flask imports run`
            report = engine.import_file(db.session, Actor.system("cli"), "providers",
                                        io.BytesIO(data), "providers.csv", engine.ImportOptions(),
                                        file_size=len(data), progress=progress, locale="en")
            outcome.update(status=report.status, created=report.created, ended=time.monotonic())
            db.session.remove()

    client = live.app.test_client()
    assert client.get("/api/v1/me", headers=live.headers()).status_code == 200  # token used
    importer = threading.Thread(target=cli_import)
    importer.start()
    assert first_batch_written.wait(30)
    started = time.monotonic()
    read = status(lambda: client.get("/api/v1/me", headers=live.headers()))
    read_seconds = time.monotonic() - started
    started = time.monotonic()
    write = status(lambda: client.post(
        "/api/v1/careplans", headers=live.headers(),
        json={"patient_id": live.patient_id, "plan_date": utcnow().date().isoformat(),
              "review_date": (utcnow().date() + timedelta(days=90)).isoformat(),
              "priorities": "Pendant l’import"}))
    write_ended = time.monotonic()
    importer.join(60)
    print(f"\nimport of 6000 rows: a read during it answered {read} in {read_seconds:.3f} s, "
          f"a write {write} after {write_ended - started:.2f} s; import {outcome}")
    assert read == 200
    assert write == 201
    assert outcome["status"] == "succeeded" and outcome["created"] == 6000
    if not dbutil.is_postgres():
        assert read_seconds < 1.0  # readers never wait for the writer (WAL, deferred reads)
        assert write_ended >= outcome["ended"] - 0.05  # the write waited for the import
    assert live.scalar(select(func.count()).select_from(CarePlan)) == 1
    assert live.scalar(select(func.count()).select_from(Provider)) == 6000
