"""The life of a work item, run inline (in the test's transaction): claimed once, its work
committed with its end, failures, retries, cancellation, dead workers, lost claims."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from coordinator import web
from coordinator.core.time import utcnow
from coordinator.printing.models import PrintedDocument
from coordinator.work import queue, worker
from coordinator.work import registry as registries
from coordinator.work.context import Retry, WorkContext
from coordinator.work.models import STATUS_VALUES, WorkBlob, WorkItem, WorkStatus
from coordinator.work.registry import Kind, UnknownKind
from tests.work.conftest import write_document


def documents(session) -> list[str]:
    return [key.rstrip("-") for key in session.scalars(
        select(PrintedDocument.key).order_by(PrintedDocument.key))]


def refreshed(session, item_id: int) -> WorkItem:
    return session.get(WorkItem, item_id, populate_existing=True)


def test_the_application_factory_registers_every_kind_once(app):
    names = registries.of(app).names()
    assert {"import", "print_batch"} <= set(names)
    before_request = list(app.before_request_funcs.get(None, []))
    web.register_work(app)  # wiring again adds nothing
    assert registries.of(app).names() == names
    assert app.before_request_funcs.get(None, []) == before_request
    with pytest.raises(ValueError, match="two kinds of work are named 'import'"):
        registries.of(app).register(Kind("import", lambda ctx: None))
    assert STATUS_VALUES == "'queued', 'running', 'succeeded', 'failed', 'cancelled'"


def test_an_unknown_kind_is_refused(session):
    with pytest.raises(UnknownKind):
        queue.enqueue(session, "no-such-kind", {})


def test_an_item_runs_once_and_its_work_commits_with_its_end(app, session, kinds):
    def handler(ctx: WorkContext) -> dict:
        write_document(ctx, ctx.payload["key"])
        return {"written": ctx.payload["key"]}

    kinds("test.write", handler)
    item = queue.enqueue(session, "test.write", {"key": "one"}, total=1)
    session.commit()
    ran = worker.drain(app)
    assert [info.id for info in ran] == [item.id]
    assert worker.drain(app) == []  # nothing left: it ran once
    item = refreshed(session, item.id)
    assert (item.status, item.attempts, item.result, item.done) == (
        "succeeded", 1, {"written": "one"}, 1)
    assert item.finished_at is not None and item.error is None
    assert documents(session) == ["one"]


def test_items_run_oldest_first(app, session, kinds):
    kinds("test.write", lambda ctx: write_document(ctx, ctx.payload["key"]))
    ids = [queue.enqueue(session, "test.write", {"key": key}).id for key in ("a", "b", "c")]
    session.commit()
    assert [info.id for info in worker.drain(app)] == ids


def test_progress_is_published_as_the_handler_goes(app, session, kinds, monkeypatch):
    monkeypatch.setattr(WorkContext, "PUBLISH_INTERVAL", 0)
    seen = []

    def handler(ctx: WorkContext) -> None:
        ctx.progress(1, 3, rows=10)
        seen.append(queue.state(ctx.session, ctx.item_id))
        ctx.progress(2, rows=20)
        seen.append(queue.state(ctx.session, ctx.item_id))

    kinds("test.progress", handler)
    item_id = queue.enqueue(session, "test.progress", {}).id
    session.commit()
    worker.drain(app)
    assert [(s.status, s.done, s.total, s.counts, s.percent) for s in seen] == [
        (WorkStatus.RUNNING, 1, 3, {"rows": 10}, 33),
        (WorkStatus.RUNNING, 2, 3, {"rows": 20}, 66)]
    final = queue.state(session, item_id)
    assert (final.status, final.done, final.total, final.percent) == (
        WorkStatus.SUCCEEDED, 3, 3, 100)


def test_a_failing_handler_writes_nothing_and_its_end_hook_says_why(app, session, kinds):
    ended = []

    def handler(ctx: WorkContext) -> None:
        write_document(ctx, "half")
        raise ValueError("boom")

    kinds("test.fail", handler, on_end=lambda s, info: ended.append((info.status, info.error)))
    item_id = queue.enqueue(session, "test.fail", {}).id
    session.commit()
    worker.drain(app)
    item = refreshed(session, item_id)
    assert (item.status, item.error, item.attempts) == ("failed", "ValueError: boom", 1)
    assert ended == [("failed", "ValueError: boom")]
    assert documents(session) == []


def test_a_transient_failure_is_retried_until_the_attempts_are_spent(app, session, kinds):
    runs = []

    def handler(ctx: WorkContext) -> None:
        runs.append(ctx.attempt)
        write_document(ctx, f"attempt-{ctx.attempt}")
        raise Retry("the database went away")

    kinds("test.flaky", handler, max_attempts=2)
    item_id = queue.enqueue(session, "test.flaky", {}).id
    session.commit()
    assert len(worker.drain(app)) == 2
    item = refreshed(session, item_id)
    assert runs == [1, 2]
    assert (item.status, item.attempts, item.error) == (
        "failed", 2, "Retry: the database went away")
    assert documents(session) == []


def test_a_transient_failure_then_success(app, session, kinds):
    def handler(ctx: WorkContext) -> None:
        if ctx.attempt == 1:
            raise Retry("once")
        write_document(ctx, "second")

    kinds("test.once", handler)
    item_id = queue.enqueue(session, "test.once", {}).id
    session.commit()
    worker.drain(app)
    assert (refreshed(session, item_id).status, documents(session)) == ("succeeded", ["second"])


def test_cancelling_a_queued_item_ends_it_at_once(app, session, kinds):
    ended = []
    kinds("test.never", lambda ctx: pytest.fail("a cancelled item ran"),
          on_end=lambda s, info: ended.append(info.status))
    item = queue.enqueue(session, "test.never", {})
    queue.attach(session, item, io.BytesIO(b"x" * 10))
    session.commit()
    assert queue.cancel(session, item.id) == WorkStatus.CANCELLED
    session.commit()
    assert worker.drain(app) == []
    item = refreshed(session, item.id)
    assert (item.status, item.error, ended) == ("cancelled", "cancelled", ["cancelled"])
    assert session.scalar(select(WorkBlob.seq).where(WorkBlob.item_id == item.id)) is None
    assert queue.cancel(session, item.id) == WorkStatus.CANCELLED  # again: nothing changes
    assert queue.cancel(session, 999_999) is None


def test_cancelling_a_running_item_stops_it_at_its_next_checkpoint(app, session, kinds,
                                                                   monkeypatch):
    monkeypatch.setattr(WorkContext, "PUBLISH_INTERVAL", 0)
    ended, steps = [], []

    def handler(ctx: WorkContext) -> None:
        write_document(ctx, "before")
        assert queue.cancel(ctx.session, ctx.item_id) == WorkStatus.RUNNING  # another request
        assert queue.state(ctx.session, ctx.item_id).cancel_requested
        steps.append("asked")
        ctx.progress(1, 2)
        steps.append("went on")

    kinds("test.long", handler, on_end=lambda s, info: ended.append(info.status))
    item_id = queue.enqueue(session, "test.long", {}).id
    session.commit()
    worker.drain(app)
    item = refreshed(session, item_id)
    assert (item.status, steps, ended) == ("cancelled", ["asked"], ["cancelled"])
    assert documents(session) == []  # its work was rolled back


def test_a_stopping_worker_puts_its_item_back_and_gives_its_attempt_back(app, session, kinds):
    runner = worker.Worker(app, inline=True)

    def handler(ctx: WorkContext) -> None:
        write_document(ctx, "interrupted")
        runner.stop.set()  # SIGTERM
        ctx.progress(1)

    kinds("test.stop", handler)
    item_id = queue.enqueue(session, "test.stop", {}).id
    session.commit()
    assert len(runner.drain()) == 1
    item = refreshed(session, item_id)
    assert (item.status, item.attempts, item.claimed_by) == ("queued", 0, None)
    assert documents(session) == []


def _running(session, *, attempts: int, silent_for: timedelta, max_attempts: int = 3,
             kind: str = "test.stale") -> WorkItem:
    item = WorkItem(kind=kind, payload={}, status="running", attempts=attempts,
                    max_attempts=max_attempts, claimed_by="dead-host:1:x",
                    heartbeat_at=utcnow() - silent_for)
    session.add(item)
    session.commit()
    return item


def test_the_item_of_a_dead_worker_is_queued_again_then_failed_when_attempts_are_spent(
        app, session, kinds):
    ended = []
    kinds("test.stale", lambda ctx: None, on_end=lambda s, info: ended.append(info.error))
    stale = _running(session, attempts=1, silent_for=timedelta(minutes=5))
    alive = _running(session, attempts=1, silent_for=timedelta(seconds=5))
    spent = _running(session, attempts=3, silent_for=timedelta(minutes=5))
    assert queue.reap(session, timedelta(seconds=60)) == {
        "requeued": 1, "failed": 1, "cancelled": 0}
    assert (refreshed(session, stale.id).status, refreshed(session, stale.id).claimed_by) == (
        "queued", None)
    assert refreshed(session, alive.id).status == "running"
    spent = refreshed(session, spent.id)
    assert spent.status == "failed" and queue.is_interruption(spent.error)
    assert ended == [spent.error] and "3 time(s)" in spent.error
    assert [info.id for info in worker.drain(app)] == [stale.id]  # run again, attempt 2
    assert (refreshed(session, stale.id).status, refreshed(session, stale.id).attempts) == (
        "succeeded", 2)


def test_a_dead_workers_item_whose_cancellation_was_asked_is_cancelled(app, session, kinds):
    kinds("test.stale", lambda ctx: None)
    item = _running(session, attempts=1, silent_for=timedelta(minutes=5))
    queue.cancel(session, item.id)  # asked while it "ran": recorded for its worker
    session.commit()
    assert queue.reap(session, timedelta(seconds=60))["cancelled"] == 1
    assert refreshed(session, item.id).status == "cancelled"


def test_a_worker_that_lost_its_claim_commits_nothing(app, session, kinds):
    def handler(ctx: WorkContext) -> None:
        write_document(ctx, "lost")
        # meanwhile this worker was taken for dead and another one claimed the item
        ctx.session.get(WorkItem, ctx.item_id).claimed_by = "another:2:y"
        ctx.session.flush()

    kinds("test.lost", handler)
    item_id = queue.enqueue(session, "test.lost", {}).id
    session.commit()
    worker.drain(app)
    assert refreshed(session, item_id).status == "running"  # still the other worker's
    assert documents(session) == []


def test_the_input_is_stored_in_chunks_and_read_back_then_deleted(app, session, kinds):
    data = bytes(range(256)) * 1000
    seen = []

    def handler(ctx: WorkContext) -> None:
        seen.append(queue.open_blob(ctx.session, ctx.item_id).read())

    kinds("test.blob", handler)
    item = queue.enqueue(session, "test.blob", {})
    assert queue.attach(session, item, io.BytesIO(data), chunk_bytes=70_000) == len(data)
    session.commit()
    assert session.scalar(select(WorkBlob.seq).order_by(WorkBlob.seq.desc())) == 3
    worker.drain(app)
    assert seen == [data]
    assert session.scalar(select(WorkBlob.seq)) is None


@pytest.mark.parametrize(("env", "uri", "configured", "expected"), [
    ("development", "postgresql+psycopg://x/y", None, True),
    ("production", "postgresql+psycopg://x/y", None, False),
    ("production", "sqlite:///instance/c.sqlite3", None, True),
    ("production", "postgresql+psycopg://x/y", True, True),
    ("development", "sqlite:///c.sqlite3", False, False),
])
def test_worker_threads_in_the_web_process(env, uri, configured, expected):
    class App:
        config = {"ENV_NAME": env, "SQLALCHEMY_DATABASE_URI": uri,
                  "WORKERS_IN_PROCESS": configured}

    assert worker.in_process_enabled(App()) is expected
