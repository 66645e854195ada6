"""The queue: enqueue an item (in the caller's transaction), read its state, cancel it; and
what workers do with it: claim one, end it, put back the items of dead workers.

`enqueue`, `attach`, `cancel` flush and never commit: the item is part of the caller's unit of
work (the report and its item are committed together, or not at all). `claim`, `end`,
`requeue` and `reap` are the mechanism's own steps and commit explicitly, each in a short
transaction whose first statement writes (on SQLite a transaction that read first could not
take the write lock while another connection writes, and would fail at once instead of
waiting its turn).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.work import registry as registries
from coordinator.work.beacon import Beacon, fence, for_engine
from coordinator.work.context import ItemInfo
from coordinator.work.models import WorkBlob, WorkItem, WorkStatus

logger = logging.getLogger(__name__)
BEACON_KEY = "coordinator.work.beacon"
CHUNK_BYTES = 1 << 20
INTERRUPTED = "interrupted: its worker stopped (killed, or its host restarted) {n} time(s)"
CANCELLED = "cancelled"


def is_interruption(error: str | None) -> bool:
    """Whether an item failed because its workers kept stopping (not on an error of its own)."""
    return bool(error) and error.startswith("interrupted:")


def beacon(app: Flask | None = None) -> Beacon:
    """Where the live state of the application's running items goes (see `beacon`)."""
    app = app or current_app._get_current_object()
    found = app.extensions.get(BEACON_KEY)
    if found is None:
        found = for_engine(db.engine, app.config.get("WORK_STATE_DIR"))
        app.extensions[BEACON_KEY] = found
    return found


# -- What the application does ------------------------------------------------------------------

def enqueue(session: Session, kind: str, payload: dict, *, created_by_id: int | None = None,
            total: int | None = None, max_attempts: int | None = None) -> WorkItem:
    """Queue work of `kind` (flushed; committed with the caller's transaction)."""
    if has_app_context():
        registered = registries.of()
        found = registered.get(kind)  # UnknownKind: a typo must not queue work nobody runs
        max_attempts = max_attempts or found.max_attempts or current_app.config.get(
            "WORK_MAX_ATTEMPTS", 3)
    item = WorkItem(kind=kind, payload=payload, status=WorkStatus.QUEUED.value,
                    created_by_id=created_by_id, total=total, done=0,
                    max_attempts=max_attempts or 3, attempts=0)
    session.add(item)
    session.flush()
    if has_app_context():
        beacon().clear(item.id)  # SQLite may give the id of a deleted item again: forget its state
    return item


def attach(session: Session, item: WorkItem, stream: BinaryIO,
           chunk_bytes: int = CHUNK_BYTES) -> int:
    """Store `stream` as the item's input, chunk by chunk (flat memory); its size in bytes."""
    size = seq = 0
    while True:
        chunk = stream.read(chunk_bytes)
        if not chunk:
            return size
        session.execute(insert(WorkBlob).values(item_id=item.id, seq=seq, data=chunk))
        seq += 1
        size += len(chunk)


class BlobReader(io.RawIOBase):
    """The stored input of an item, read one chunk at a time."""

    def __init__(self, session: Session, item_id: int):
        self.session = session
        self.item_id = item_id
        self.seq = 0
        self.buffer = b""
        self.position = 0
        self.exhausted = False

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        if self.position >= len(self.buffer) and not self.exhausted:
            chunk = self.session.scalar(select(WorkBlob.data).where(
                WorkBlob.item_id == self.item_id, WorkBlob.seq == self.seq))
            self.seq += 1
            self.buffer, self.position = (bytes(chunk), 0) if chunk is not None else (b"", 0)
            self.exhausted = chunk is None
        size = min(len(target), len(self.buffer) - self.position)
        target[:size] = self.buffer[self.position:self.position + size]
        self.position += size
        return size


def open_blob(session: Session, item_id: int) -> BinaryIO:
    return io.BufferedReader(BlobReader(session, item_id), CHUNK_BYTES)  # type: ignore[return-value]


@dataclass(frozen=True)
class WorkState:
    """An item as a progress bar shows it, from any process."""

    id: int
    status: WorkStatus
    done: int
    total: int | None
    counts: dict
    attempts: int
    max_attempts: int
    cancel_requested: bool
    error: str | None

    @property
    def finished(self) -> bool:
        return self.status.finished

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, self.done * 100 // self.total)

    @property
    def retried(self) -> bool:
        """Whether an earlier attempt was interrupted."""
        return self.attempts > 1 or (self.status == WorkStatus.QUEUED and self.attempts > 0)


def state(session: Session, item_id: int | None) -> WorkState | None:
    """The item's state as stored, with the live progress of its running attempt."""
    if item_id is None:
        return None
    item = session.get(WorkItem, item_id, populate_existing=True)
    if item is None:
        return None
    the_beacon = beacon()
    live = the_beacon.live(item) if item.status == WorkStatus.RUNNING.value else None
    done, total, counts = item.done, item.total, item.counts
    if live is not None and (item.heartbeat_at is None or live.at >= item.heartbeat_at):
        done, total, counts = live.done, live.total or total, live.counts or counts
    return WorkState(id=item.id, status=WorkStatus(item.status), done=done or 0, total=total,
                     counts=counts or {}, attempts=item.attempts,
                     max_attempts=item.max_attempts,
                     cancel_requested=the_beacon.cancel_requested(item), error=item.error)


def cancel(session: Session, item_id: int) -> WorkStatus | None:
    """Cancel an item: a queued one at once (its end hook runs now; the caller commits), a
    running one at its next checkpoint (its work is then rolled back). The item's status
    afterwards (running: cancellation requested), None when there is no such item."""
    item = session.get(WorkItem, item_id, populate_existing=True)
    if item is None:
        return None
    if item.status == WorkStatus.QUEUED.value:
        cancelled = session.execute(
            update(WorkItem)
            .where(WorkItem.id == item_id, WorkItem.status == WorkStatus.QUEUED.value)
            .values(status=WorkStatus.CANCELLED.value, error=CANCELLED, finished_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        item = session.get(WorkItem, item_id, populate_existing=True)
        if cancelled:
            session.execute(delete(WorkBlob).where(WorkBlob.item_id == item_id))
            _end_hook(session, ItemInfo.of(item))
            return WorkStatus.CANCELLED
    if item.status == WorkStatus.RUNNING.value:
        # No write to the database on SQLite (see `beacon`): a running import holds its lock.
        beacon().request_cancel(session, item)
    return WorkStatus(item.status)


# -- What workers do --------------------------------------------------------------------------

def claim(session: Session, kinds: list[str], worker: str) -> ItemInfo | None:
    """Take the oldest queued item of these kinds for `worker`, and commit: exactly one worker
    gets each item. PostgreSQL: the candidate row is locked `FOR NO KEY UPDATE SKIP LOCKED`,
    so concurrent workers take different items without waiting; SQLite: one writer at a time,
    and the update applies only while the item is still queued (a read first, so that an idle
    worker never takes the write lock)."""
    if not kinds:
        return None
    queued = (WorkItem.status == WorkStatus.QUEUED.value, WorkItem.kind.in_(kinds))
    pick = select(WorkItem.id).where(*queued).order_by(WorkItem.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True, key_share=True)
    else:
        anything = session.scalar(select(WorkItem.id).where(*queued).limit(1))
        session.commit()  # ends the read: the claim must be the first statement of its own
        if anything is None:
            return None
    now = utcnow()
    row = session.execute(
        update(WorkItem)
        .where(WorkItem.id == pick.scalar_subquery(), WorkItem.status == WorkStatus.QUEUED.value)
        .values(status=WorkStatus.RUNNING.value, claimed_by=worker,
                attempts=WorkItem.attempts + 1, heartbeat_at=now, started_at=now)
        .returning(WorkItem.id, WorkItem.kind, WorkItem.payload, WorkItem.attempts,
                   WorkItem.max_attempts, WorkItem.created_by_id, WorkItem.cancel_requested)
        .execution_options(synchronize_session=False)).first()
    session.commit()
    if row is None:
        return None
    return ItemInfo(id=row.id, kind=row.kind, payload=dict(row.payload or {}),
                    attempt=row.attempts, max_attempts=row.max_attempts, claimed_by=worker,
                    created_by_id=row.created_by_id, status=WorkStatus.RUNNING.value,
                    cancel_requested=bool(row.cancel_requested))


def end(session: Session, info: ItemInfo, status: WorkStatus, *, result: dict | None = None,
        error: str | None = None, progress: tuple[int, int | None, dict | None] | None = None,
        stale_before: datetime | None = None) -> bool:
    """End `info`'s attempt with `status` (flushed, in `session`: a succeeded item commits with
    its handler's work). False when the attempt no longer owns the item (nothing written)."""
    values: dict = {"status": status.value, "result": result, "error": error,
                    "finished_at": utcnow()}
    if progress is not None:
        done, total, counts = progress
        if status == WorkStatus.SUCCEEDED:  # all of it is done
            done = total if total is not None else func.coalesce(WorkItem.total, done)
        values.update(done=done, **({"total": total} if total is not None else {}),
                      **({"counts": counts} if counts is not None else {}))
    conditions = list(fence(info))
    if stale_before is not None:
        conditions.append(or_(WorkItem.heartbeat_at.is_(None),
                              WorkItem.heartbeat_at < stale_before))
    updated = session.execute(update(WorkItem).where(*conditions).values(**values)
                              .execution_options(synchronize_session=False)).rowcount
    if updated != 1:
        return False
    session.execute(delete(WorkBlob).where(WorkBlob.item_id == info.id))
    if status != WorkStatus.SUCCEEDED:
        _end_hook(session, info.ended(status.value, error))
    return True


def requeue(session: Session, info: ItemInfo, *, give_back: bool,
            stale_before: datetime | None = None) -> bool:
    """Put `info`'s item back in the queue (flushed); `give_back`: this attempt does not count
    (the worker stopped cleanly). False when the attempt no longer owns the item."""
    conditions = list(fence(info))
    if stale_before is not None:
        conditions.append(or_(WorkItem.heartbeat_at.is_(None),
                              WorkItem.heartbeat_at < stale_before))
    updated = session.execute(
        update(WorkItem).where(*conditions)
        .values(status=WorkStatus.QUEUED.value, claimed_by=None, heartbeat_at=None,
                attempts=WorkItem.attempts - (1 if give_back else 0))
        .execution_options(synchronize_session=False)).rowcount
    return updated == 1


def reap(session: Session, stale_after: timedelta, now: datetime | None = None) -> dict[str, int]:
    """The running items whose worker has not been heard of for `stale_after` (killed, or its
    host went down): queued again while attempts remain, else failed with the reason;
    cancelled if that was asked. Each change commits on its own."""
    now = now or utcnow()
    cutoff = now - stale_after
    the_beacon = beacon()
    candidates = [(ItemInfo.of(item), the_beacon.last_beat(item), the_beacon.cancel_requested(item))
                  for item in session.scalars(select(WorkItem).where(
                      WorkItem.status == WorkStatus.RUNNING.value,
                      or_(WorkItem.heartbeat_at.is_(None), WorkItem.heartbeat_at < cutoff)))]
    session.commit()
    counts = {"requeued": 0, "failed": 0, "cancelled": 0}
    postgres = session.get_bind().dialect.name == "postgresql"
    for info, last_beat, cancel_asked in candidates:
        if last_beat is not None and last_beat >= cutoff:
            continue  # alive: its heartbeat is in the beacon (SQLite)
        if postgres:
            # A dead host's transaction may hold the report's row until PostgreSQL notices:
            # rather than hang this worker, give up and try again at the next reap.
            session.execute(text("SET LOCAL lock_timeout = '5s'"))
        try:
            if cancel_asked:
                changed, key = end(session, info, WorkStatus.CANCELLED, error=CANCELLED,
                                stale_before=cutoff), "cancelled"
            elif info.attempt >= info.max_attempts:
                changed, key = end(session, info, WorkStatus.FAILED,
                                error=INTERRUPTED.format(n=info.attempt),
                                stale_before=cutoff), "failed"
            else:
                changed, key = requeue(session, info, give_back=False,
                                    stale_before=cutoff), "requeued"
            session.commit()
        except OperationalError as error:  # locked: the next reap tries again
            session.rollback()
            logger.warning("work item %s: not reaped yet (%s)", info.id, error)
            continue
        if changed:
            counts[key] += 1
            if key != "requeued":
                the_beacon.clear(info.id)
            logger.warning("work item %s (%s): worker %s silent since %s: %s", info.id,
                           info.kind, info.claimed_by, last_beat, key)
    return counts


def _end_hook(session: Session, info: ItemInfo) -> None:
    if has_app_context() and info.kind in registries.of():
        hook = registries.of().get(info.kind).on_end
        if hook is not None:
            hook(session, info)
