"""Rendering with a cache: a document whose HTML was rendered before is not rendered again."""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, undefer

from coordinator.core.rows import rowcount
from coordinator.printing import pdf as pdfs
from coordinator.printing.models import PrintedDocument

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    cached: bool


@functools.cache
def _renderer_fingerprint() -> bytes:
    """What else shapes a PDF besides its HTML: the static files it links, and WeasyPrint."""
    from importlib.metadata import version

    digest = hashlib.sha256(version("weasyprint").encode())
    for path in sorted(pdfs.STATIC.glob("*.css")):
        digest.update(path.read_bytes())
    return digest.digest()


def cache_key(html: str) -> str:
    """The same HTML rendered by the same stylesheets and WeasyPrint gives the same PDF."""
    return hashlib.sha256(_renderer_fingerprint() + html.encode("utf-8")).hexdigest()


def cached(session: Session, key: str) -> Rendered | None:
    row = session.scalar(select(PrintedDocument).options(undefer(PrintedDocument.pdf))
                         .where(PrintedDocument.key == key))
    return Rendered(row.pdf, row.pages, True) if row is not None else None


def store(session: Session, key: str, pdf: bytes) -> Rendered:
    """Keep a rendered PDF; a concurrent render of the same document keeps the first one. A
    write that fails (the disk is full) leaves no entry (its savepoint is rolled back) and
    raises `pdf.NotStored`."""
    pages = pdfs.page_count(pdf)
    try:
        with session.begin_nested():
            session.add(PrintedDocument(key=key, pdf=pdf, pages=pages))
    except IntegrityError:
        pass
    except OperationalError as error:
        if not _disk_full(error):
            raise  # busy, gone...: the database's own error answer (core/errorpages.py)
        log.error("a rendered PDF could not be stored: %s", error)
        raise pdfs.NotStored(str(error)) from error
    except OSError as error:
        log.error("a rendered PDF could not be stored: %s", error)
        raise pdfs.NotStored(str(error)) from error
    return Rendered(pdf, pages, False)


def _disk_full(error: OperationalError) -> bool:
    """SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100)."""
    original = error.orig
    return getattr(original, "sqlite_errorname", None) == "SQLITE_FULL" or \
        getattr(original, "sqlstate", None) == "53100" or "disk is full" in str(original)


def render(session: Session, html: str, time_limit: float | None = None) -> Rendered:
    """The PDF of `html`, from the cache when this very HTML was rendered before. With a
    `time_limit` (seconds) it is rendered in a child process killed when the limit passes
    (`pdf.RenderTimedOut`); without, in this process. A failed rendering raises
    `pdf.RenderFailed`, a failed cache write `pdf.NotStored`: nothing is written then."""
    key = cache_key(html)
    hit = cached(session, key)
    if hit is not None:
        return hit
    return store(session, key, render_uncached(html, time_limit))


def render_uncached(html: str, time_limit: float | None = None) -> bytes:
    """The PDF of `html`, rendered now and kept nowhere (a document that differs at each print
    and should not stay on the server: a patient's export). The time limit and the errors are
    those of `render`."""
    if time_limit:
        return pdfs.render_pdf_within(html, time_limit)
    try:
        return pdfs.render_pdf(html)
    except Exception as error:  # WeasyPrint's errors have no common class
        log.exception("a document could not be rendered")
        raise pdfs.RenderFailed(str(error)) from error


CACHE_DAYS = 30
BATCH_HOURS = 24


def purge(session: Session, now: datetime) -> dict[str, int]:
    """Printed documents are not kept: cached PDFs unused for 30 days go, batch PDFs go after
    24 hours. (A batch interrupted by a restart is not left behind: its work item is run
    again, see coordinator/work.)"""
    from datetime import timedelta

    from sqlalchemy import delete, update

    from coordinator.printing.models import PrintBatch

    cached = rowcount(session.execute(delete(PrintedDocument).where(
        PrintedDocument.created_at < now - timedelta(days=CACHE_DAYS))))
    expired = rowcount(session.execute(update(PrintBatch).where(
        PrintBatch.created_at < now - timedelta(hours=BATCH_HOURS), PrintBatch.pdf.is_not(None))
        .values(pdf=None)))
    return {"cached_pdfs": cached, "batch_pdfs": expired}
