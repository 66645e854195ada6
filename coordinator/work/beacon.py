"""Where a running item's live state goes: its progress, its heartbeat, a request to cancel it.

PostgreSQL: the `work_item` row itself, written by the worker's own short transactions (a
handler's transaction never touches the row, so nothing waits for it).

SQLite has one write lock for the whole file, and an import holds it for its whole
transaction (it is all or nothing): no other connection can commit a progress, a heartbeat
or a cancellation until it ends. So on SQLite the live state of a running item is kept in
small files beside the database (`<database>-work/`): every process using an SQLite file
runs on the host that has it, so all of them read these files. The row still holds all that
is durable (status, attempts, claim, result), written by the mechanism between handlers'
transactions.

The workers' own heartbeats (a worker alive, whether or not it runs an item; /healthz reads
them, see `health`) go the same ways: PostgreSQL, a `work_worker` row per worker in short
transactions of its own; SQLite, a file per worker in `<database>-work/workers/`.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from coordinator.core.time import utcnow
from coordinator.work.context import ItemInfo
from coordinator.work.models import WorkerBeat, WorkItem, WorkStatus

FORGET_WORKERS_AFTER = 24 * 3600  # seconds: the heartbeat of a worker killed long ago is dropped


@dataclass(frozen=True)
class Signal:
    """What a worker learns when it publishes: stop, the item was cancelled; or stop and write
    nothing, another worker owns the item now."""

    cancel_requested: bool = False
    lost: bool = False


@dataclass(frozen=True)
class Live:
    """The latest progress published by an item's current attempt."""

    done: int
    total: int | None
    counts: dict | None
    at: datetime


def fence(info: ItemInfo) -> tuple:
    """The conditions that hold while `info`'s attempt still owns its item."""
    return (WorkItem.id == info.id, WorkItem.status == WorkStatus.RUNNING.value,
            WorkItem.claimed_by == info.claimed_by, WorkItem.attempts == info.attempt)


class Beacon:
    """The interface; `RowBeacon` and `FileBeacon` below."""

    def beat(self, info: ItemInfo, done: int, total: int | None,
             counts: dict | None) -> Signal:
        raise NotImplementedError

    def request_cancel(self, session: Session, item: WorkItem) -> None:
        raise NotImplementedError

    def live(self, item: WorkItem) -> Live | None:
        """The progress of the item's current attempt, when newer than its row's."""
        return None

    def last_beat(self, item: WorkItem) -> datetime | None:
        return item.heartbeat_at

    def cancel_requested(self, item: WorkItem) -> bool:
        return bool(item.cancel_requested)

    def asked_to_cancel(self, item_id: int) -> bool:
        """Whether a request to cancel is recorded here, beside the row's flag."""
        return False

    def clear(self, item_id: int) -> None:
        """Forget the live state of an item that ended."""

    # -- the workers' own heartbeats ---------------------------------------------------------

    def worker_beat(self, name: str, started_at: datetime) -> None:
        """Record that worker `name` (running since `started_at`) is alive now."""

    def worker_left(self, name: str) -> None:
        """Forget worker `name`: it stopped cleanly."""

    def last_worker_beat(self, session: Session) -> datetime | None:
        """The latest heartbeat of any worker, None when no worker is known."""
        return None


class RowBeacon(Beacon):
    """PostgreSQL (and any database with row locks): the row, in a transaction of its own."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def beat(self, info, done, total, counts) -> Signal:
        values: dict[str, Any] = {"heartbeat_at": utcnow(), "done": done}
        if total is not None:
            values["total"] = total
        if counts is not None:
            values["counts"] = counts
        with self.engine.begin() as connection:
            row = connection.execute(update(WorkItem).where(*fence(info)).values(**values)
                                     .returning(WorkItem.cancel_requested)).first()
        return Signal(lost=True) if row is None else Signal(cancel_requested=bool(row[0]))

    def request_cancel(self, session, item) -> None:
        session.execute(update(WorkItem).where(
            WorkItem.id == item.id, WorkItem.status == WorkStatus.RUNNING.value)
            .values(cancel_requested=True))

    def worker_beat(self, name, started_at) -> None:
        now = utcnow()
        with self.engine.begin() as connection:
            beaten = connection.execute(update(WorkerBeat).where(WorkerBeat.name == name)
                                        .values(beat_at=now)).rowcount
            if not beaten:  # its first beat: forget the workers killed long ago, then join
                connection.execute(delete(WorkerBeat).where(
                    WorkerBeat.beat_at < now - timedelta(seconds=FORGET_WORKERS_AFTER)))
                connection.execute(insert(WorkerBeat).values(name=name, started_at=started_at,
                                                             beat_at=now))

    def worker_left(self, name) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(WorkerBeat).where(WorkerBeat.name == name))

    def last_worker_beat(self, session) -> datetime | None:
        return session.scalar(select(func.max(WorkerBeat.beat_at)))


class FileBeacon(Beacon):
    """SQLite: `<id>.json` (the latest beat of the current attempt, replaced atomically) and
    `<id>.cancel` (a request to cancel) in one folder per database. Reading the row needs no
    lock (WAL), so a beat still learns whether its attempt owns the item. The folder is made
    by the first write (reading, /healthz say, creates nothing where the database is not)."""

    def __init__(self, engine: Engine, directory: Path):
        self.engine = engine
        self.directory = directory

    @staticmethod
    def _made(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @classmethod
    def for_engine(cls, engine: Engine, configured: str | None = None) -> FileBeacon:
        if configured:
            return cls(engine, Path(configured))
        database = engine.url.database
        if database in (None, "", ":memory:"):  # one process: any private folder does
            return cls(engine, Path(tempfile.mkdtemp(prefix="coordinator-work-")))
        path = Path(database).resolve()
        return cls(engine, path.with_name(path.name + "-work"))

    def _beat_path(self, item_id: int) -> Path:
        return self.directory / f"{item_id}.json"

    def _cancel_path(self, item_id: int) -> Path:
        return self.directory / f"{item_id}.cancel"

    def beat(self, info, done, total, counts) -> Signal:
        record = {"by": info.claimed_by, "attempt": info.attempt, "at": time.time(),
                  "done": done, "total": total, "counts": counts}
        self._made(self.directory)
        target = self._beat_path(info.id)
        scratch = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
        scratch.write_text(json.dumps(record))
        os.replace(scratch, target)
        with self.engine.connect() as connection:
            row = connection.execute(select(WorkItem.cancel_requested).where(*fence(info))).first()
        if row is None:
            return Signal(lost=True)
        return Signal(cancel_requested=bool(row[0]) or self._cancel_path(info.id).exists())

    def request_cancel(self, session, item) -> None:
        self._made(self.directory)
        self._cancel_path(item.id).touch()

    def _record(self, item: WorkItem) -> dict | None:
        try:
            record = json.loads(self._beat_path(item.id).read_text())
        except (FileNotFoundError, ValueError):
            return None
        if record.get("by") != item.claimed_by or record.get("attempt") != item.attempts:
            return None  # an earlier attempt's
        return record

    def live(self, item) -> Live | None:
        record = self._record(item)
        if record is None:
            return None
        return Live(int(record["done"]), record["total"], record["counts"],
                    datetime.fromtimestamp(record["at"], UTC))

    def last_beat(self, item) -> datetime | None:
        live = self.live(item)
        beats = [at for at in (item.heartbeat_at, live.at if live else None) if at is not None]
        return max(beats) if beats else None

    def cancel_requested(self, item) -> bool:
        return bool(item.cancel_requested) or self.asked_to_cancel(item.id)

    def asked_to_cancel(self, item_id) -> bool:
        return self._cancel_path(item_id).exists()

    def clear(self, item_id) -> None:
        for path in (self._beat_path(item_id), self._cancel_path(item_id)):
            path.unlink(missing_ok=True)

    def _workers(self) -> Path:
        return self.directory / "workers"

    def worker_beat(self, name, started_at) -> None:
        folder = self._made(self._workers())
        target = folder / f"{name}.json"
        scratch = folder / f".{name}.{threading.get_ident()}"
        scratch.write_text(json.dumps({"at": time.time(), "started": started_at.isoformat()}))
        os.replace(scratch, target)

    def worker_left(self, name) -> None:
        (self._workers() / f"{name}.json").unlink(missing_ok=True)

    def last_worker_beat(self, session) -> datetime | None:
        latest = None
        forget_before = time.time() - FORGET_WORKERS_AFTER
        for path in self._workers().glob("*.json") if self._workers().is_dir() else ():
            try:
                at = float(json.loads(path.read_text())["at"])
            except (OSError, ValueError, KeyError, TypeError):
                continue  # replaced or removed while read
            if at < forget_before:
                path.unlink(missing_ok=True)
            elif latest is None or at > latest:
                latest = at
        return datetime.fromtimestamp(latest, UTC) if latest is not None else None


class SessionBeacon(Beacon):
    """An item run inline (tests): its row, in the handler's own session (nothing committed);
    cancellation requested through the application's beacon is seen too."""

    def __init__(self, session: Session, outer: Beacon):
        self.session = session
        self.outer = outer

    def beat(self, info, done, total, counts) -> Signal:
        values: dict[str, Any] = {"heartbeat_at": utcnow(), "done": done}
        if total is not None:
            values["total"] = total
        if counts is not None:
            values["counts"] = counts
        updated = self.session.execute(update(WorkItem).where(*fence(info)).values(**values)
                                       .execution_options(synchronize_session=False)).rowcount
        if not updated:
            return Signal(lost=True)
        item = self.session.get(WorkItem, info.id, populate_existing=True)
        return Signal(cancel_requested=self.outer.cancel_requested(item))

    def request_cancel(self, session, item) -> None:
        self.outer.request_cancel(session, item)

    def cancel_requested(self, item) -> bool:
        return self.outer.cancel_requested(item)

    def asked_to_cancel(self, item_id) -> bool:
        return self.outer.asked_to_cancel(item_id)

    def last_worker_beat(self, session) -> datetime | None:
        return self.outer.last_worker_beat(session)


def for_engine(engine: Engine, configured_directory: str | None = None) -> Beacon:
    if engine.dialect.name == "sqlite":
        return FileBeacon.for_engine(engine, configured_directory)
    return RowBeacon(engine)
