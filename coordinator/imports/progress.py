"""Progress of the imports running in this process, for the progress bar of the web UI.

The registry is in memory: the page polling an import's progress must reach the process that
received its file (one web process, or sticky sessions). Another process answers "running"
without a percentage until the import ends; the stored report, in the database, is always
the reference.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Progress:
    total_bytes: int
    bytes_read: int = 0
    rows: int = 0

    @property
    def percent(self) -> int:
        if not self.total_bytes:
            return 0
        return min(100, self.bytes_read * 100 // self.total_bytes)


_lock = threading.Lock()
_running: dict[int, Progress] = {}


def begin(report_id: int, total_bytes: int) -> None:
    with _lock:
        _running[report_id] = Progress(total_bytes)


def update(report_id: int, bytes_read: int, rows: int) -> None:
    with _lock:
        current = _running.get(report_id)
        if current is not None:
            _running[report_id] = replace(current, bytes_read=bytes_read, rows=rows)


def end(report_id: int) -> None:
    with _lock:
        _running.pop(report_id, None)


def get(report_id: int) -> Progress | None:
    with _lock:
        return _running.get(report_id)
