"""Benchmark: how many work items per second workers claim, run (a handler that does nothing)
and end, with P worker processes on one database; checks that each item ran exactly once.

    .venv/bin/python benchmarks/work_claims.py [--items 1000] [--processes 2] [--url URL]

Without --url: a fresh SQLite file. With a PostgreSQL URL the database must be empty (its
schema is built by the migrations, then dropped). Prints one markdown table row.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
from sqlalchemy import insert, select, text

from coordinator import create_app
from coordinator.extensions import db
from coordinator.work import registry as registries
from coordinator.work import worker as workers
from coordinator.work.models import WorkItem
from coordinator.work.registry import Kind

SPAWN = multiprocessing.get_context("spawn")


def _noop(ctx) -> dict:
    return {"by": ctx.info.claimed_by}


def _app(url: str):
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url,
                      "WORKERS_IN_PROCESS": False})
    registries.of(app).register(Kind("bench.noop", _noop))
    return app


def _drain(url: str, barrier, results) -> None:
    app = _app(url)
    with app.app_context():
        db.session.execute(select(1))  # connected before the start
        db.session.remove()
    barrier.wait(timeout=300)
    started = time.perf_counter()
    ran = workers.Worker(app).drain()
    results.put((len(ran), started, time.perf_counter()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--url")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'work.sqlite3'}"
    app = _app(url)
    with app.app_context():
        flask_migrate.upgrade()
        db.session.execute(insert(WorkItem), [
            {"kind": "bench.noop", "payload": {}, "status": "queued", "done": 0, "attempts": 0,
             "max_attempts": 3, "cancel_requested": False} for _ in range(args.items)])
        db.session.commit()
        db.session.remove()
    barrier, results = SPAWN.Barrier(args.processes), SPAWN.Queue()
    processes = [SPAWN.Process(target=_drain, args=(url, barrier, results))
                 for _ in range(args.processes)]
    for process in processes:
        process.start()
    outcome = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    seconds = max(end for _n, _s, end in outcome) - min(start for _n, start, _e in outcome)
    with app.app_context():
        items = db.session.execute(select(WorkItem.status, WorkItem.attempts,
                                          WorkItem.result)).all()
        if url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        db.session.remove()
    assert Counter((status, attempts) for status, attempts, _r in items) == {
        ("succeeded", 1): args.items}, "an item ran twice, or not at all"
    per_process = sorted(n for n, _s, _e in outcome)
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"| {database} | {args.processes} processes | {args.items} items | "
          f"{args.items / seconds:.0f} items/s | each once (per process: {per_process}) |")


if __name__ == "__main__":
    main()
