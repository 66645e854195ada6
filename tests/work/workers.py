"""What the processes of the background-work tests run: each builds its own application on the
shared database, as a `flask --app wsgi worker` process (or another host) would, and registers
the test kinds below. A process reports through files in a folder the test gives it (`log`),
so that what a killed process did before it died is still known."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from sqlalchemy import select

from coordinator import create_app
from coordinator.extensions import db
from coordinator.work import registry as registries
from coordinator.work import worker as workers
from coordinator.work.context import WorkContext
from coordinator.work.models import WorkItem
from coordinator.work.registry import Kind

FAST = {"WORK_POLL_SECONDS": 0.05, "WORK_HEARTBEAT_SECONDS": 0.2, "WORK_STALE_SECONDS": 2.0}


def note(log: str, name: str, line: str) -> None:
    """Append a line to `log/name` (O_APPEND: lines of several processes never mix; a killed
    process's lines are in the page cache already)."""
    with open(Path(log) / name, "a") as handle:
        handle.write(line + "\n")


def lines(log: str, name: str) -> list[str]:
    path = Path(log) / name
    return path.read_text().splitlines() if path.exists() else []


def _record(ctx: WorkContext) -> dict:
    """Runs in no time: says who ran it, and writes one row."""
    from tests.work.conftest import write_document

    note(ctx.payload["log"], "ran", f"{ctx.item_id} {os.getpid()} {ctx.attempt}")
    write_document(ctx, f"item-{ctx.item_id}")
    return {"pid": os.getpid()}


def _slow(ctx: WorkContext) -> dict:
    """Writes a row, then `steps` steps of `step` seconds, each a checkpoint."""
    from tests.work.conftest import write_document

    note(ctx.payload["log"], "started", f"{ctx.item_id} {os.getpid()} {ctx.attempt}")
    write_document(ctx, f"slow-{ctx.item_id}")
    steps = ctx.payload["steps"]
    for step in range(steps):
        ctx.progress(step, steps)
        time.sleep(ctx.payload["step"])
    note(ctx.payload["log"], "finished", f"{ctx.item_id} {os.getpid()} {ctx.attempt}")
    return {"pid": os.getpid()}


def app_for(url: str, **config):
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url, **FAST, **config})
    registry = registries.of(app)
    registry.register(Kind("test.record", _record))
    registry.register(Kind("test.slow", _slow))
    return app


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def stall_after_first_progress(log: str, *, committed: bool = False) -> None:
    """From now on in this process, a handler's first progress (a committed one when
    `committed`) writes `log/midway` and then waits forever: the test kills the process
    there, midway through the work."""
    original = WorkContext.progress

    def progress(self, done, total=None, *, commit=False, **counts):
        original(self, done, total, commit=commit, **counts)
        if done > 0 and (commit or not committed):
            note(log, "midway", f"{self.item_id} {os.getpid()} {done}")
            time.sleep(3600)

    WorkContext.progress = progress


def count_renders(log: str) -> None:
    """Every PDF rendered in this process is noted in `log/rendered`."""
    from coordinator.printing import pdf

    original = pdf.render_pdf

    def render(html: str) -> bytes:
        note(log, "rendered", str(os.getpid()))
        return original(html)

    pdf.render_pdf = render


# -- the processes ------------------------------------------------------------------------------

def drain(url: str, barrier, results) -> None:
    """Wait for the other process, then run queued items until none is left."""
    app = app_for(url)
    barrier.wait(timeout=120)
    started = time.monotonic()
    ran = workers.Worker(app).drain()
    results.put((os.getpid(), len(ran), time.monotonic() - started))
    dispose(app)


def run_until_finished(url: str, item_id: int, log: str, results, *, stall: str | None = None,
                       renders: bool = False, timeout: float = 120, **config) -> None:
    """Run a worker until item `item_id` is finished (or `timeout`); `stall`: "any" or
    "committed", see `stall_after_first_progress`."""
    if stall:
        stall_after_first_progress(log, committed=stall == "committed")
    if renders:
        count_renders(log)
    app = app_for(url, **config)
    worker = workers.Worker(app)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    status = None
    with app.app_context():
        while time.monotonic() < deadline:
            status = db.session.scalar(select(WorkItem.status).where(WorkItem.id == item_id))
            db.session.rollback()
            if status in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.1)
    worker.stop.set()
    thread.join(30)
    results.put((os.getpid(), status))
    dispose(app)


def serve(url: str, log: str) -> None:
    """`flask --app wsgi worker`'s loop (signals included), until SIGTERM."""
    app = app_for(url)
    note(log, "serving", str(os.getpid()))
    workers.serve(app, threads=1)
    note(log, "stopped", str(os.getpid()))
    dispose(app)


def slow_render(html: str) -> bytes:
    """A render that never ends in time (run in the batch's process pool)."""
    time.sleep(120)
    return b""
