"""Batch printing: many documents into one PDF, rendered in worker processes (WeasyPrint is
CPU-bound and holds the GIL, so threads would use one core). A batch runs as background work
(its handler is in `careplans/work.py`): the work item is the unit of durability, the process
pool inside it only renders. Each rendered document goes into the PDF cache as it comes, so an
interrupted batch resumes where it was. A document taking longer than the render time limit
fails the batch instead of holding a worker."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from sqlalchemy import update
from sqlalchemy.orm import Session

from coordinator.core.time import utcnow
from coordinator.printing import pdf as pdfs
from coordinator.printing import services
from coordinator.printing.models import BatchStatus, PrintBatch, PrintKind

log = logging.getLogger(__name__)
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


class RenderTimeout(Exception):
    """A document took longer than the render time limit."""

    def __init__(self, seconds: float):
        super().__init__(f"a document took longer than {seconds:g} s to render")
        self.seconds = seconds


def workers() -> int:
    """PRINT_WORKERS when set, else one worker per core."""
    from flask import current_app, has_app_context

    configured = current_app.config.get("PRINT_WORKERS") if has_app_context() else None
    return max(1, int(configured or os.cpu_count() or 1))


def pool() -> ProcessPoolExecutor:
    """One pool of renderers per process, started on first use ("spawn": a fresh interpreter,
    safe from a multi-threaded process)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=workers(),
                                        mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _kill_pool() -> None:
    """Stop the renderers at once (one of them is stuck); the next batch starts a new pool."""
    global _pool
    with _pool_lock:
        executor, _pool = _pool, None
    if executor is None:
        return
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)


def _rendered_in_pool(htmls: dict[str, str], timeout: float | None,
                      render: Callable[[str], bytes]) -> Iterator[tuple[str, bytes]]:
    """(key, pdf) as the pool renders them. When no document is finished for `timeout`
    seconds while the pool is busy, one of them has run that long: the pool is stopped and
    RenderTimeout raised. Documents not started yet are cancelled when the caller stops."""
    futures: dict[Future, str] = {pool().submit(render, html): key
                                  for key, html in htmls.items()}
    pending = set(futures)
    try:
        while pending:
            finished, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            if not finished:
                _kill_pool()
                raise RenderTimeout(timeout or 0)
            for future in finished:
                yield futures[future], future.result()
    finally:
        for future in pending:
            future.cancel()


def render_all(session: Session, htmls: list[str],
               progress: Callable[[int], None] = lambda done: None,
               parallel: bool = True, timeout: float | None = None,
               render: Callable[[str], bytes] | None = None) -> list[services.Rendered]:
    """The PDFs of `htmls`, in order: cached ones at once, the others rendered in parallel
    (or in this process when `parallel` is False: no time limit then), each stored in the cache
    as it comes; `progress(done)` after each. `render`: a picklable function (default
    `pdf.render_pdf`)."""
    render = render or pdfs.render_pdf
    results: list[services.Rendered | None] = [None] * len(htmls)
    keys = [services.cache_key(html) for html in htmls]
    missing: dict[str, list[int]] = {}
    done = 0
    for index, key in enumerate(keys):
        hit = services.cached(session, key)
        if hit is not None:
            results[index] = hit
            done += 1
        else:
            missing.setdefault(key, []).append(index)
    progress(done)
    to_render = {key: htmls[indexes[0]] for key, indexes in missing.items()}
    if parallel and (len(missing) > 1 or timeout):
        finished = _rendered_in_pool(to_render, timeout, render)
    else:
        finished = ((key, render(html)) for key, html in to_render.items())
    for key, pdf in finished:
        rendered = services.store(session, key, pdf)
        for index in missing[key]:
            results[index] = rendered
            done += 1
        progress(done)
    return results  # type: ignore[return-value]


def start(session: Session, user_id: int, total: int, *,
          kind: PrintKind = PrintKind.CARE_PLANS, parameters: dict | None = None) -> PrintBatch:
    batch = PrintBatch(user_id=user_id, total=total, status=BatchStatus.RUNNING, kind=kind,
                       parameters=parameters)
    session.add(batch)
    session.flush()
    return batch


def execute(session: Session, batch_id: int, htmls: list[str], stamp_text: str, *,
            progress: Callable[[int], None] = lambda done: None, parallel: bool = True,
            timeout: float | None = None) -> int:
    """Render the documents, merge and stamp them into the batch (written, not committed):
    its number of pages. The batch is written by one UPDATE that reads nothing first (on
    SQLite a write after a read may not wait for the lock)."""
    rendered = render_all(session, htmls, progress, parallel, timeout)
    merged = pdfs.stamp(pdfs.merge([r.pdf for r in rendered]), stamp_text) if rendered else None
    pages = sum(r.pages for r in rendered)
    session.execute(update(PrintBatch).where(PrintBatch.id == batch_id).values(
        pdf=merged, pages=pages, status=BatchStatus.SUCCEEDED, finished_at=utcnow())
        .execution_options(synchronize_session=False))
    return pages
