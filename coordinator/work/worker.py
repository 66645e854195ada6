"""Workers: claim an item, run its handler, end it; beat while it runs; put back the items of
dead workers. `flask --app wsgi worker` runs them in a process of their own (production);
`start_in_process` runs them as threads of the web process (`make run`, SQLite)."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.work import queue
from coordinator.work import registry as registries
from coordinator.work.beacon import Beacon, SessionBeacon
from coordinator.work.context import (
    Cancelled,
    Interrupted,
    ItemInfo,
    LostClaim,
    Retry,
    WorkContext,
)
from coordinator.work.models import WorkStatus

logger = logging.getLogger(__name__)
THREADS_KEY = "coordinator.work.threads"
STARTER_KEY = "coordinator.work.starter"
TRANSIENT = (Retry, OperationalError, InterfaceError)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def _app_context(app: Flask) -> Iterator[None]:
    if has_app_context() and current_app._get_current_object() is app:
        yield
        return
    with app.app_context():
        yield


class Worker:
    """One worker: runs one item at a time. `inline`: in the caller's application context and
    session, nothing committed beyond what a commit means there (tests: savepoints)."""

    def __init__(self, app: Flask, *, name: str | None = None,
                 stop: threading.Event | None = None, inline: bool = False):
        self.app = app
        self.name = name or worker_name()
        self.stop = stop or threading.Event()
        self.inline = inline
        config = app.config
        self.poll = float(config.get("WORK_POLL_SECONDS", 1.0))
        self.heartbeat = float(config.get("WORK_HEARTBEAT_SECONDS", 5))
        self.stale_after = timedelta(seconds=float(config.get("WORK_STALE_SECONDS", 60)))
        self._current: WorkContext | None = None
        self._last_reap = 0.0

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        """Run items until `stop` is set; wait `WORK_POLL_SECONDS` when there is none."""
        logger.info("worker %s started", self.name)
        with self._heartbeats():
            while not self.stop.is_set():
                try:
                    ran = self.run_once()
                except Exception:  # the database is away, say: try again later
                    logger.exception("worker %s: claim failed", self.name)
                    ran = None
                if ran is None:
                    self.stop.wait(self.poll)
        logger.info("worker %s stopped", self.name)

    def drain(self, limit: int | None = None) -> list[ItemInfo]:
        """Run queued items until none is left (or `limit` ran): what ran."""
        ran: list[ItemInfo] = []
        with self._heartbeats():
            while (limit is None or len(ran) < limit) and not self.stop.is_set():
                info = self.run_once()
                if info is None:
                    break
                ran.append(info)
        return ran

    def run_once(self) -> ItemInfo | None:
        """Claim one item and run it; None when nothing was queued."""
        with _app_context(self.app):
            control = db.session if self.inline else Session(db.engine)
            try:
                self._maybe_reap(control)
                info = queue.claim(control, registries.of().names(), self.name)
            except OperationalError as error:  # SQLite: another connection holds the lock
                control.rollback()
                logger.debug("worker %s: no claim (%s)", self.name, error)
                info = None
            finally:
                if not self.inline:
                    control.close()
            if info is None:
                return None
            try:
                self._execute(info)
            finally:
                if not self.inline:
                    db.session.remove()
            return info

    def _maybe_reap(self, session: Session) -> None:
        now = time.monotonic()
        if now - self._last_reap < min(self.stale_after.total_seconds() / 4, 30):
            return
        self._last_reap = now
        queue.reap(session, self.stale_after)

    # -- one item ----------------------------------------------------------------------------

    def _execute(self, info: ItemInfo) -> None:
        session = db.session
        kind = registries.of().get(info.kind)
        app_beacon = queue.beacon()
        beacon = SessionBeacon(session, app_beacon) if self.inline else app_beacon
        ctx = WorkContext(info, session, beacon, self.stop)
        self._current = ctx
        started = time.monotonic()
        try:
            ctx.checkpoint()  # cancelled before it started
            result = kind.handler(ctx)
        except Cancelled:
            session.rollback()
            self._end(info, WorkStatus.CANCELLED, error=queue.CANCELLED, ctx=ctx)
            return
        except LostClaim:
            session.rollback()
            logger.warning("work item %s: %s lost its claim; its work is dropped", info.id,
                           self.name)
            return
        except Interrupted:
            session.rollback()
            self._commit(session, queue.requeue(session, info, give_back=True))
            logger.info("work item %s: interrupted (worker stopping), queued again", info.id)
            return
        except TRANSIENT as error:
            session.rollback()
            reason = f"{type(error).__name__}: {error}"[:2000]
            if info.attempt < info.max_attempts:
                self._commit(session, queue.requeue(session, info, give_back=False))
                logger.warning("work item %s: transient failure, queued again: %s", info.id,
                               reason)
            else:
                self._end(info, WorkStatus.FAILED, error=reason, ctx=ctx)
            return
        except Exception as error:
            session.rollback()
            logger.exception("work item %s (%s) failed", info.id, info.kind)
            self._end(info, WorkStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000],
                      ctx=ctx)
            return
        finally:
            self._current = None
        try:
            ended = queue.end(session, info, WorkStatus.SUCCEEDED, result=result,
                              progress=(ctx.done, ctx.total, ctx.counts))
            if ended:
                session.commit()
        except TRANSIENT as error:  # the commit of its work failed: nothing of it was written
            session.rollback()
            logger.warning("work item %s: its end could not be committed, queued again: %s",
                           info.id, error)
            if info.attempt < info.max_attempts:
                self._commit(session, queue.requeue(session, info, give_back=False))
            else:
                self._end(info, WorkStatus.FAILED, error=f"{type(error).__name__}: {error}",
                          ctx=ctx)
            return
        if not ended:
            session.rollback()
            logger.warning("work item %s: %s lost its claim before the end; nothing committed",
                           info.id, self.name)
            return
        app_beacon.clear(info.id)
        logger.info("work item %s (%s) succeeded in %.1f s", info.id, info.kind,
                    time.monotonic() - started)

    def _end(self, info: ItemInfo, status: WorkStatus, *, error: str,
             ctx: WorkContext) -> None:
        session = db.session
        ended = queue.end(session, info, status, error=error,
                          progress=(ctx.done, ctx.total, ctx.counts))
        self._commit(session, ended)
        if ended:
            queue.beacon().clear(info.id)
            logger.info("work item %s (%s): %s", info.id, info.kind, status.value)

    @staticmethod
    def _commit(session: Session, changed: bool) -> None:
        if changed:
            session.commit()
        else:
            session.rollback()

    # -- heartbeat -------------------------------------------------------------------------

    @contextmanager
    def _heartbeats(self) -> Iterator[None]:
        """A thread that, every `WORK_HEARTBEAT_SECONDS`, records that this worker is alive
        (/healthz reads it) and publishes the running item's progress, whatever its handler is
        doing (a long render has no checkpoint). The worker is known from its first beat, here,
        to its clean stop."""
        if self.inline:
            yield
            return
        with _app_context(self.app):
            beacon = queue.beacon(self.app)
        started = utcnow()
        self._beat(beacon, started)
        done = threading.Event()
        thread = threading.Thread(target=self._beat_loop, args=(done, beacon, started),
                                  daemon=True, name=f"heartbeat-{self.name}")
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(self.heartbeat + 5)
            try:
                beacon.worker_left(self.name)
            except Exception as error:  # the database is away: its heartbeat grows old instead
                logger.warning("worker %s: its stop not recorded: %s", self.name, error)

    def _beat(self, beacon: Beacon, started: datetime) -> None:
        try:
            beacon.worker_beat(self.name, started)
        except Exception as error:  # the database is away, say: the next beat tries again
            logger.warning("worker %s: heartbeat not recorded: %s", self.name, error)

    def _beat_loop(self, done: threading.Event, beacon: Beacon, started: datetime) -> None:
        while not done.wait(self.heartbeat):
            self._beat(beacon, started)
            current = self._current
            if current is not None:
                current.publish()


# -- Workers as threads of the web process -----------------------------------------------------

def in_process_enabled(app: Flask) -> bool:
    """`WORKERS_IN_PROCESS` when set, else on outside production and always on SQLite (the
    embedded database needs no other process)."""
    configured = app.config.get("WORKERS_IN_PROCESS")
    if configured is not None:
        return bool(configured)
    uri = str(app.config.get("SQLALCHEMY_DATABASE_URI") or "")
    return app.config.get("ENV_NAME") != "production" or uri.startswith("sqlite")


class InProcessWorkers:
    """The worker threads of one application in this process."""

    def __init__(self, app: Flask, count: int):
        self.stop = threading.Event()
        self.workers = [Worker(app, stop=self.stop) for _ in range(max(1, count))]
        self.threads = [threading.Thread(target=worker.run, daemon=True,
                                         name=f"work-{index}")
                        for index, worker in enumerate(self.workers)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop: a running item stops at its next checkpoint and is queued again."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def running_here(app: Flask) -> bool:
    """Whether worker threads of `app` run in this process."""
    workers = app.extensions.get(THREADS_KEY)
    return workers is not None and any(thread.is_alive() for thread in workers.threads)


_starting = threading.Lock()


def start_in_process(app: Flask) -> InProcessWorkers:
    """Start the application's worker threads in this process, once."""
    with _starting:
        running = app.extensions.get(THREADS_KEY)
        if running is not None:
            return running
        workers = InProcessWorkers(app, int(app.config.get("WORKER_THREADS", 1)))
        app.extensions[THREADS_KEY] = workers
        workers.start()
    atexit.register(workers.shutdown, float(app.config.get("WORK_STOP_GRACE_SECONDS", 10)))
    logger.info("%d worker thread(s) started in this process", len(workers.threads))
    return workers


def init_app(app: Flask) -> None:
    """Start the worker threads with the first request when the configuration asks for them
    (not at import: a command such as `flask db upgrade` must not run work)."""
    if not in_process_enabled(app) or app.extensions.get(STARTER_KEY):
        return
    app.extensions[STARTER_KEY] = True

    @app.before_request
    def _start_workers() -> None:
        if THREADS_KEY not in app.extensions:
            start_in_process(app)


def drain(app: Flask, limit: int | None = None) -> list[ItemInfo]:
    """Run the queued items here, in the current application context and session (tests)."""
    return Worker(app, inline=True).drain(limit)


# -- Worker processes --------------------------------------------------------------------------

def serve(app: Flask, threads: int = 1, burst: bool = False) -> int:
    """What `flask --app wsgi worker` runs: `threads` workers until SIGTERM or SIGINT (a second
    signal stops at once); `burst`: until the queue is empty. A running item stops at its next
    checkpoint and is queued again, its attempt given back."""
    stop = threading.Event()
    grace = float(app.config.get("WORK_STOP_GRACE_SECONDS", 30))

    def on_signal(signum, _frame) -> None:
        if stop.is_set():
            logger.warning("second signal: stopping at once")
            os._exit(1)
        logger.info("signal %s: stopping (items running stop at their next checkpoint)",
                    signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        workers = [Worker(app, stop=stop) for _ in range(max(1, threads))]
        if burst:
            ran = 0
            for worker in workers[:1]:
                ran += len(worker.drain())
            return ran
        pool = [threading.Thread(target=worker.run, name=f"work-{index}")
                for index, worker in enumerate(workers)]
        for thread in pool:
            thread.start()
        while not stop.wait(0.5):
            if not any(thread.is_alive() for thread in pool):
                break
        deadline = time.monotonic() + grace
        for thread in pool:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [thread.name for thread in pool if thread.is_alive()]
        if stuck:
            logger.warning("still running after %.0f s: %s (their items will be taken over "
                           "once their heartbeat is stale)", grace, ", ".join(stuck))
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
