"""The workers in /healthz: "ok" while a worker beats, "idle" when none does and nothing waits,
503 "stale" when work waits and no worker has beaten for WORK_STALE_SECONDS (or ever)."""

from __future__ import annotations

import threading
import time

import pytest

from coordinator import create_app
from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.work import queue, worker


@pytest.fixture
def waiting_item(session, kinds):
    """An item queued (in the test's transaction, which /healthz reads)."""
    kinds("test.health", lambda ctx: None)
    item = queue.enqueue(session, "test.health", {})
    session.commit()
    return item


@pytest.fixture
def stale_after(app, monkeypatch):
    """A worker is taken for dead after this many seconds."""
    monkeypatch.setitem(app.config, "WORK_STALE_SECONDS", 0.5)
    return 0.5


@pytest.fixture
def dead_worker(app):
    """`dead_worker()`: a worker's heartbeat recorded once, never again (it was killed)."""
    beacon, names = queue.beacon(app), []

    def beat_once() -> None:
        name = f"test-dead-{len(names)}"
        names.append(name)
        beacon.worker_beat(name, utcnow())

    yield beat_once
    for name in names:
        beacon.worker_left(name)


def healthz(client):
    response = client.get("/healthz")
    return response.status_code, response.json


def wait_for(predicate, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.fixture
def running_worker(app):
    """A worker running in a thread, as in a `flask worker` process; stopped cleanly."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.Worker(app, stop=stop).run, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(30)


def test_nothing_waits_and_no_worker_runs_the_workers_are_idle(client):
    assert healthz(client) == (200, {"status": "ok", "database": "ok", "workers": "idle"})


def test_a_worker_that_beats_makes_the_workers_ok_until_it_stops(app, client):
    stop = threading.Event()
    thread = threading.Thread(target=worker.Worker(app, stop=stop).run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: healthz(client)[1]["workers"] == "ok", "the worker's heartbeat")
        assert healthz(client)[0] == 200
    finally:
        stop.set()
        thread.join(30)
    # a clean stop forgets its heartbeat at once (a killed worker's grows stale)
    assert healthz(client) == (200, {"status": "ok", "database": "ok", "workers": "idle"})


def test_queued_work_and_a_worker_beating_is_ok(client, waiting_item, running_worker):
    wait_for(lambda: healthz(client)[1]["workers"] == "ok", "the worker's heartbeat")


def test_queued_work_and_a_stale_heartbeat_answers_503(client, waiting_item, stale_after,
                                                       dead_worker):
    dead_worker()
    assert healthz(client)[1]["workers"] == "ok"  # it beat just now
    time.sleep(stale_after + 0.2)
    assert healthz(client) == (503, {"status": "unavailable", "database": "ok",
                                     "workers": "stale"})


def test_queued_work_and_no_worker_ever_answers_503(client, waiting_item):
    assert healthz(client) == (503, {"status": "unavailable", "database": "ok",
                                     "workers": "stale"})


def test_a_stale_heartbeat_with_nothing_waiting_is_idle(client, stale_after, dead_worker):
    dead_worker()
    time.sleep(stale_after + 0.2)
    assert healthz(client) == (200, {"status": "ok", "database": "ok", "workers": "idle"})


def test_a_running_item_whose_worker_died_answers_503(app, session, client, kinds,
                                                      stale_after):
    """Killed while it ran an item: no one is left to take the item over."""
    kinds("test.health", lambda ctx: None)
    item = queue.enqueue(session, "test.health", {})
    session.commit()
    info = queue.claim(session, ["test.health"], "test-killed")
    assert info is not None and info.id == item.id
    time.sleep(stale_after + 0.2)
    assert healthz(client)[1]["workers"] == "stale"


def test_the_worker_threads_of_make_run_make_the_workers_ok(database_url):
    """`make run` (SQLite): the web process runs the workers, started by its first request,
    /healthz included, so it never reports them missing."""
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": database_url,
                      "WORKERS_IN_PROCESS": True})
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 200 and response.json["workers"] == "ok"
    finally:
        app.extensions[worker.THREADS_KEY].shutdown()
        with app.app_context():
            db.engine.dispose()

