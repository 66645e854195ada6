"""Imports as background work, run inline: a database error midway is retried (nothing of the
failed attempt written), a cancellation midway writes nothing."""

from __future__ import annotations

import io

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from coordinator.core.context import Actor
from coordinator.imports import engine
from coordinator.imports import work as import_work
from coordinator.imports.models import ImportReport
from coordinator.providers.models import Provider
from coordinator.work import queue, worker
from coordinator.work.context import WorkContext
from coordinator.work.models import WorkItem
from tests.imports.conftest import example

ROWS = 600


def _providers() -> bytes:
    return ("external_id,kind,name,territory_code\n" + "".join(
        f"P{n},nurse,Nurse {n},DOUAISIS\n" for n in range(ROWS))).encode()


def _start(session, admin) -> ImportReport:
    report = import_work.start(session, Actor.for_user(admin), "providers", "p.csv",
                               engine.ImportOptions(), io.BytesIO(_providers()), "en")
    session.commit()
    return report


def _providers_count(session) -> int:
    return session.scalar(select(func.count(Provider.id)))


def test_a_database_error_midway_is_retried_and_the_import_written_once(app, session, admin,
                                                                        monkeypatch):
    app.config["IMPORT_BATCH_SIZE"] = 100
    original, calls = engine._flush, []

    def flaky(run, kind, batch, raw, progress):
        calls.append(1)
        if len(calls) == 3:  # the third batch of the first attempt
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return original(run, kind, batch, raw, progress)

    monkeypatch.setattr(engine, "_flush", flaky)
    try:
        report = _start(session, admin)
        assert [info.attempt for info in worker.drain(app)] == [1, 2]
    finally:
        app.config["IMPORT_BATCH_SIZE"] = engine.BATCH_SIZE
    session.refresh(report)
    item = session.get(WorkItem, report.work_item_id)
    assert (item.status, item.attempts) == ("succeeded", 2)
    assert (report.status, report.created, _providers_count(session)) == (
        "succeeded", ROWS, ROWS)


def test_an_import_cancelled_midway_writes_nothing(app, session, admin, monkeypatch):
    monkeypatch.setattr(WorkContext, "PUBLISH_INTERVAL", 0)
    app.config["IMPORT_BATCH_SIZE"] = 100
    original = WorkContext.progress

    def progress(ctx, done, total=None, **kwargs):
        if done and not queue.state(ctx.session, ctx.item_id).cancel_requested:
            queue.cancel(ctx.session, ctx.item_id)  # the owner clicks "Cancel" midway
        original(ctx, done, total, **kwargs)

    monkeypatch.setattr(WorkContext, "progress", progress)
    try:
        report = _start(session, admin)
        worker.drain(app)
    finally:
        app.config["IMPORT_BATCH_SIZE"] = engine.BATCH_SIZE
    session.refresh(report)
    assert (report.status, session.get(WorkItem, report.work_item_id).status) == (
        "cancelled", "cancelled")
    assert report.errors[-1]["message"] == "The import was cancelled: nothing was written."
    assert _providers_count(session) == 0


def test_a_finished_report_is_not_imported_again(app, session, admin):
    report = import_work.start(session, Actor.for_user(admin), "providers", "p.csv",
                               engine.ImportOptions(), io.BytesIO(example("providers")), "en")
    report.status = "succeeded"  # an earlier attempt committed it, then its worker died
    session.commit()
    [info] = worker.drain(app)
    item = session.get(WorkItem, info.id)
    assert (item.status, item.result) == ("succeeded", {"status": "succeeded"})
    assert _providers_count(session) == 0
