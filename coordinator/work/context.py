"""What a handler sees of its item (`WorkContext`), and how it is told to stop."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from coordinator.work.beacon import Beacon
    from coordinator.work.models import WorkItem

logger = logging.getLogger(__name__)


class Stopped(BaseException):
    """Raised at a checkpoint: the handler must stop now. A BaseException (like asyncio's
    CancelledError), so that a handler's `except Exception` does not swallow it."""


class Cancelled(Stopped):
    """Its owner or an administrator cancelled the item: its work is rolled back."""


class Interrupted(Stopped):
    """The worker is stopping (SIGTERM, the web process exits): the work is rolled back and the
    item queued again, its attempt given back."""


class LostClaim(Stopped):
    """Another worker took the item over (this one was taken for dead): write nothing."""


class Retry(Exception):
    """A transient failure (the database went away, say): the work is rolled back and the item
    run again later, while attempts remain."""


@dataclass(frozen=True)
class ItemInfo:
    """What the mechanism keeps of an item while it runs it (plain values: they outlive a
    rollback). `attempt` and `claimed_by` identify the attempt; `status` and `error` are those
    the item ends with, for the end hooks."""

    id: int
    kind: str
    payload: dict
    attempt: int
    max_attempts: int
    claimed_by: str | None
    created_by_id: int | None
    status: str
    error: str | None = None
    cancel_requested: bool = False  # when it was claimed

    @classmethod
    def of(cls, item: WorkItem) -> ItemInfo:
        return cls(id=item.id, kind=item.kind, payload=dict(item.payload or {}),
                   attempt=item.attempts, max_attempts=item.max_attempts,
                   claimed_by=item.claimed_by, created_by_id=item.created_by_id,
                   status=item.status, error=item.error,
                   cancel_requested=bool(item.cancel_requested))

    def ended(self, status: str, error: str | None = None) -> ItemInfo:
        return replace(self, status=status, error=error)


class WorkContext:
    """Handed to a handler: its item's payload, the session to work in, and `progress`, the
    checkpoint where the handler reports how far it is and learns whether to stop.

    The handler never commits: its work is committed by the mechanism, with the item's end, in
    one transaction. `progress(..., commit=True)` is the one exception, explicit: it commits
    what the handler did so far (a batch keeps the documents it rendered; an import, all or
    nothing, never uses it)."""

    PUBLISH_INTERVAL = 0.5  # seconds: progress reaches the database at most twice a second

    def __init__(self, info: ItemInfo, session: Session, beacon: Beacon,
                 stop: threading.Event | None = None):
        self.info = info
        self.session = session
        self._beacon = beacon
        self._stop = stop or threading.Event()
        self._lock = threading.Lock()
        self.done = 0
        self.total: int | None = None
        self.counts: dict[str, Any] | None = None
        self._published = time.monotonic()  # the claim was a heartbeat
        self._cancelled = info.cancel_requested or beacon.asked_to_cancel(info.id)
        self._lost = False

    @property
    def item_id(self) -> int:
        return self.info.id

    @property
    def payload(self) -> dict:
        return self.info.payload

    @property
    def attempt(self) -> int:
        return self.info.attempt

    def progress(self, done: int, total: int | None = None, *, commit: bool = False,
                 **counts: Any) -> None:
        """Report `done` of `total` (and counts such as rows=…), then stop here when asked to
        (raises `Cancelled`, `Interrupted` or `LostClaim`)."""
        with self._lock:
            self.done = done
            if total is not None:
                self.total = total
            if counts:
                self.counts = {**(self.counts or {}), **counts}
        if commit:
            self.session.commit()
        if commit or time.monotonic() - self._published >= self.PUBLISH_INTERVAL:
            self.publish()
        self.checkpoint()

    def checkpoint(self) -> None:
        """Stop here when the item was cancelled or taken over, or the worker is stopping."""
        if self._lost:
            raise LostClaim(self.info.id)
        if self._cancelled:
            raise Cancelled(self.info.id)
        if self._stop.is_set():
            raise Interrupted(self.info.id)

    def publish(self) -> None:
        """Write the progress and the heartbeat where every process reads them, and learn
        whether the item was cancelled or taken over (also called by the heartbeat thread).
        A failure to publish is logged, never raised: the work goes on."""
        with self._lock:
            done, total, counts = self.done, self.total, self.counts
            self._published = time.monotonic()
        try:
            signal = self._beacon.beat(self.info, done, total, counts)
        except Exception:
            logger.warning("work item %s: progress not published", self.info.id, exc_info=True)
            return
        self._cancelled = self._cancelled or signal.cancel_requested
        self._lost = self._lost or signal.lost
