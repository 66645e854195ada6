"""Background work across processes, on the suite's database (SQLite, or PostgreSQL with
TEST_DATABASE_URL): each item claimed exactly once, progress read from another process, a
killed worker's item taken over by another, cancellation from another process, a graceful stop
on SIGTERM, an import killed midway, a batch print that survives a restart."""

from __future__ import annotations

import io
import multiprocessing
import os
import queue as queues
import signal
import time
from collections import Counter
from pathlib import Path

import flask_migrate
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from coordinator.careplans import printing as plan_printing
from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.imports import engine
from coordinator.imports import work as import_work
from coordinator.imports.models import ImportReport
from coordinator.printing.models import PrintBatch, PrintedDocument
from coordinator.providers.models import Provider
from coordinator.strata.services import load_reference_data
from coordinator.work import queue, worker
from coordinator.work.models import WorkItem
from tests import dbutil, factories
from tests.work import workers

pytestmark = pytest.mark.live_database
SPAWN = multiprocessing.get_context("spawn")
TIMEOUT = 180


@pytest.fixture
def shared(tmp_path):
    """A migrated database of its own, this process's application on it, a folder for the
    processes' notes."""
    url = dbutil.fresh_database(tmp_path)
    app = workers.app_for(url)
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        db.session.remove()
    log = tmp_path / "log"
    log.mkdir()
    yield app, url, str(log)
    workers.dispose(app)
    dbutil.drop_database(url)


def _enqueue(app, kind: str, payload: dict, count: int = 1, **options) -> list[int]:
    with app.app_context():
        ids = [queue.enqueue(db.session, kind, payload, **options).id for _ in range(count)]
        db.session.commit()
        db.session.remove()
    return ids


def _item(app, item_id: int) -> WorkItem:
    with app.app_context():
        item = db.session.get(WorkItem, item_id)
        db.session.expunge(item)
        db.session.remove()
    return item


def _wait_for(predicate, what: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _start(target, *args, **kwargs):
    process = SPAWN.Process(target=target, args=args, kwargs=kwargs)
    process.start()
    return process


def _result(results, processes) -> list:
    found = []
    deadline = time.monotonic() + TIMEOUT
    while len(found) < len(processes) and time.monotonic() < deadline:
        try:
            found.append(results.get(timeout=1))
        except queues.Empty:
            if not any(process.is_alive() for process in processes):
                break
    for process in processes:
        process.join(timeout=TIMEOUT)
        assert process.exitcode == 0
    return found


def _kill(process) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=30)


def _documents(app) -> list[str]:
    with app.app_context():
        keys = db.session.scalars(select(PrintedDocument.key)).all()
        db.session.remove()
    return sorted(key.rstrip("-") for key in keys)


def test_two_workers_run_each_item_exactly_once(shared):
    app, url, log = shared
    ids = _enqueue(app, "test.record", {"log": log}, count=40)
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    processes = [_start(workers.drain, url, barrier, results) for _ in range(2)]
    outcome = _result(results, processes)
    assert sum(ran for _pid, ran, _seconds in outcome) == len(ids)
    runs = Counter(int(line.split()[0]) for line in workers.lines(log, "ran"))
    assert runs == dict.fromkeys(ids, 1)  # every item, each once
    assert _documents(app) == sorted(f"item-{item_id}" for item_id in ids)
    with app.app_context():
        statuses = db.session.execute(select(WorkItem.status, func.count()).group_by(
            WorkItem.status)).all()
        db.session.remove()
    assert statuses == [("succeeded", len(ids))]


def test_progress_is_read_from_another_process_and_cancellation_reaches_the_worker(shared):
    app, url, log = shared
    [item_id] = _enqueue(app, "test.slow", {"log": log, "steps": 400, "step": 0.05})
    results = SPAWN.Queue()
    process = _start(workers.run_until_finished, url, item_id, log, results)
    with app.app_context():
        def advanced():
            db.session.rollback()
            state = queue.state(db.session, item_id)
            return state if state.status == "running" and (state.percent or 0) >= 1 else None

        state = _wait_for(advanced, "progress published by the worker process")
        assert state.total == 400 and 0 < state.percent < 100
        assert queue.cancel(db.session, item_id) == "running"
        db.session.commit()
        db.session.remove()
    assert _result(results, [process])[0][1] == "cancelled"
    item = _item(app, item_id)
    assert (item.status, item.attempts) == ("cancelled", 1)
    assert workers.lines(log, "finished") == [] and _documents(app) == []  # rolled back


def test_a_killed_workers_item_is_taken_over_by_another(shared):
    app, url, log = shared
    [item_id] = _enqueue(app, "test.slow", {"log": log, "steps": 6, "step": 0.05})
    results = SPAWN.Queue()
    first = _start(workers.run_until_finished, url, item_id, log, results, stall="any")
    _wait_for(lambda: workers.lines(log, "midway"), "the first worker midway")
    _kill(first)
    assert _item(app, item_id).status == "running"  # its heartbeat stops, nothing else
    second = _start(workers.run_until_finished, url, item_id, log, results)
    assert _result(results, [second])[0][1] == "succeeded"
    item = _item(app, item_id)
    assert (item.status, item.attempts) == ("succeeded", 2)
    started = [line.split() for line in workers.lines(log, "started")]
    assert [(int(pid), int(attempt)) for _item_id, pid, attempt in started] == [
        (first.pid, 1), (second.pid, 2)]
    assert _documents(app) == [f"slow-{item_id}"]  # the killed attempt wrote nothing


def test_a_worker_stops_on_sigterm_and_its_item_is_queued_again(shared):
    app, url, log = shared
    [item_id] = _enqueue(app, "test.slow", {"log": log, "steps": 2000, "step": 0.05})
    process = _start(workers.serve, url, log)
    _wait_for(lambda: workers.lines(log, "started"), "the item to start")
    os.kill(process.pid, signal.SIGTERM)
    process.join(timeout=60)
    assert process.exitcode == 0 and workers.lines(log, "stopped")
    item = _item(app, item_id)
    assert (item.status, item.attempts, item.claimed_by) == ("queued", 0, None)
    assert _documents(app) == []


CSV_ROWS = 3000


def _providers_csv() -> bytes:
    return ("external_id,kind,name,territory_code\n" + "".join(
        f"P{n},nurse,Nurse {n},DOUAISIS\n" for n in range(CSV_ROWS))).encode()


def _start_import(app) -> tuple[int, int]:
    with app.app_context():
        admin = factories.make_user(role="admin")
        report = import_work.start(db.session, Actor.for_user(admin), "providers",
                                   "providers.csv", engine.ImportOptions(),
                                   io.BytesIO(_providers_csv()), "en")
        db.session.commit()
        ids = report.id, report.work_item_id
        db.session.remove()
    return ids


def _report(app, report_id: int) -> tuple[ImportReport, int]:
    with app.app_context():
        report = db.session.get(ImportReport, report_id)
        db.session.expunge(report)
        providers = db.session.scalar(select(func.count(Provider.id)))
        db.session.remove()
    return report, providers


@pytest.mark.parametrize("max_attempts", [1, 3])
def test_an_import_killed_midway_writes_nothing_then_a_retry_imports_it(shared, max_attempts):
    """max_attempts 1: the dead worker's import is failed (nothing written), and importing the
    file again succeeds; 3: another worker runs it again, and it succeeds once."""
    app, url, log = shared
    app.config["WORK_MAX_ATTEMPTS"] = max_attempts
    report_id, item_id = _start_import(app)
    results = SPAWN.Queue()
    first = _start(workers.run_until_finished, url, item_id, log, results, stall="any",
                   IMPORT_BATCH_SIZE=200, WORK_MAX_ATTEMPTS=max_attempts)
    _wait_for(lambda: workers.lines(log, "midway"), "the import midway")
    _kill(first)
    report, providers = _report(app, report_id)
    assert (report.status, providers) == ("running", 0)  # killed midway: nothing written
    if max_attempts == 1:
        time.sleep(float(workers.FAST["WORK_STALE_SECONDS"]) + 0.5)
        with app.app_context():
            assert queue.reap(db.session, worker.Worker(app).stale_after)["failed"] == 1
            db.session.remove()
        report, providers = _report(app, report_id)
        assert (report.status, providers) == ("failed", 0)
        assert "interrupted 1 times" in report.errors[-1]["message"]
        report_id, item_id = _start_import(app)  # the user imports the file again
    second = _start(workers.run_until_finished, url, item_id, log, results,
                    IMPORT_BATCH_SIZE=200)
    assert _result(results, [second])[0][1] == "succeeded"
    report, providers = _report(app, report_id)
    assert (report.status, report.created, providers) == ("succeeded", CSV_ROWS, CSV_ROWS)
    assert _item(app, item_id).attempts == (1 if max_attempts == 1 else 2)


def test_a_batch_print_survives_a_restart(shared):
    app, url, log = shared
    with app.app_context():
        manager = factories.make_user(role="case_manager", territory_code="DOUAISIS")
        patients = [factories.make_patient(case_manager_id=manager.id) for _ in range(3)]
        plans = [factories.make_care_plan(p, user=manager, status="active") for p in patients]
        names = [patient.display_name for patient in patients]
        with app.test_request_context():
            batch = plan_printing.start_batch(db.session, factories.case_plan_actor(manager),
                                              plans, manager.full_name)
        db.session.commit()
        batch_id, item_id = batch.id, batch.work_item_id
        db.session.remove()
    results = SPAWN.Queue()
    first = _start(workers.run_until_finished, url, item_id, log, results, stall="committed",
                   renders=True)
    _wait_for(lambda: workers.lines(log, "midway"), "the first document rendered")
    _kill(first)
    assert len(_documents(app)) == 1  # kept: committed as it came
    second = _start(workers.run_until_finished, url, item_id, log, results, renders=True)
    assert _result(results, [second])[0][1] == "succeeded"
    renders = Counter(int(pid) for pid in workers.lines(log, "rendered"))
    assert renders == {first.pid: 1, second.pid: 2}  # resumed: the first one was not redone
    with app.app_context():
        batch = db.session.get(PrintBatch, batch_id)
        assert (batch.status, batch.total) == ("succeeded", 3)
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(batch.pdf)).pages)
        db.session.remove()
    assert all(name in text for name in names)
    assert _item(app, item_id).attempts == 2


def test_the_state_folder_of_sqlite_is_beside_its_database(shared):
    app, url, _log = shared
    with app.app_context():
        beacon = queue.beacon()
        if not url.startswith("sqlite"):
            assert type(beacon).__name__ == "RowBeacon"
            return
        assert Path(beacon.directory) == Path(url.removeprefix("sqlite:///") + "-work").resolve()
