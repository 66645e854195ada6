"""Batch printing: many documents into one PDF, rendered in worker processes (WeasyPrint is
CPU-bound and holds the GIL, so threads would use one core), in a background thread of the web
process that records its progress in the `print_batch` row (any process can show it)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed

from flask import Flask
from sqlalchemy.orm import Session

from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.printing import pdf as pdfs
from coordinator.printing import services
from coordinator.printing.models import BatchStatus, PrintBatch

log = logging.getLogger(__name__)
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def workers() -> int:
    """PRINT_WORKERS when set, else one worker per core."""
    from flask import current_app, has_app_context

    configured = current_app.config.get("PRINT_WORKERS") if has_app_context() else None
    return max(1, int(configured or os.cpu_count() or 1))


def pool() -> ProcessPoolExecutor:
    """One pool of renderers per process, started on first use ("spawn": a fresh interpreter,
    safe from a multi-threaded web process)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=workers(),
                                        mp_context=multiprocessing.get_context("spawn"))
        return _pool


def render_all(session: Session, htmls: list[str],
               progress: Callable[[int], None] = lambda done: None,
               parallel: bool = True) -> list[services.Rendered]:
    """The PDFs of `htmls`, in order: cached ones at once, the others rendered in parallel
    (or in this process when `parallel` is False), each stored in the cache."""
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
    if parallel and len(missing) > 1:
        futures: dict[Future, str] = {
            pool().submit(pdfs.render_pdf, htmls[indexes[0]]): key
            for key, indexes in missing.items()}
        finished = ((futures[future], future.result()) for future in as_completed(futures))
    else:
        finished = ((key, pdfs.render_pdf(htmls[indexes[0]])) for key, indexes in missing.items())
    for key, pdf in finished:
        rendered = services.store(session, key, pdf)
        for index in missing[key]:
            results[index] = rendered
            done += 1
        progress(done)
    return results  # type: ignore[return-value]


def start(session: Session, user_id: int, total: int) -> PrintBatch:
    batch = PrintBatch(user_id=user_id, total=total, done=0, status=BatchStatus.RUNNING)
    session.add(batch)
    session.flush()
    return batch


def launch(app: Flask, batch_id: int,
           build: Callable[[], tuple[list[str], str]]) -> threading.Thread:
    """Run the batch in a background thread; `build` (called inside a request context of its
    own) returns the documents' HTML and the text stamped at the foot of every page."""
    thread = threading.Thread(target=_run, args=(app, batch_id, build),
                              name=f"print-batch-{batch_id}", daemon=True)
    thread.start()
    return thread


def _run(app: Flask, batch_id: int, build) -> None:
    with app.test_request_context():
        try:
            htmls, stamp_text = build()
            execute(db.session, batch_id, htmls, stamp_text)
        except Exception as error:  # the batch must end as failed, whatever went wrong
            log.exception("print batch %s failed", batch_id)
            db.session.rollback()
            batch = db.session.get(PrintBatch, batch_id)
            if batch is not None:
                batch.status, batch.error, batch.finished_at = (BatchStatus.FAILED,
                                                                str(error)[:500], utcnow())
                db.session.commit()
        finally:
            db.session.remove()


def execute(session: Session, batch_id: int, htmls: list[str], stamp_text: str,
            parallel: bool = True) -> PrintBatch:
    """Render the documents (progress committed as they come), merge and stamp them."""
    batch = session.get(PrintBatch, batch_id)

    def progress(done: int) -> None:
        batch.done = done
        session.commit()

    rendered = render_all(session, htmls, progress, parallel)
    merged = pdfs.stamp(pdfs.merge([r.pdf for r in rendered]), stamp_text) if rendered else None
    batch.pdf = merged
    batch.pages = sum(r.pages for r in rendered)
    batch.status, batch.finished_at = BatchStatus.SUCCEEDED, utcnow()
    session.commit()
    return batch
