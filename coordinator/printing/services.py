"""Rendering with a cache: a document whose HTML was rendered before is not rendered again."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from coordinator.printing import pdf as pdfs
from coordinator.printing.models import PrintedDocument


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    cached: bool


def cache_key(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


def cached(session: Session, key: str) -> Rendered | None:
    row = session.scalar(select(PrintedDocument).options(undefer(PrintedDocument.pdf))
                         .where(PrintedDocument.key == key))
    return Rendered(row.pdf, row.pages, True) if row is not None else None


def store(session: Session, key: str, pdf: bytes) -> Rendered:
    """Keep a rendered PDF; a concurrent render of the same document keeps the first one."""
    pages = pdfs.page_count(pdf)
    try:
        with session.begin_nested():
            session.add(PrintedDocument(key=key, pdf=pdf, pages=pages))
    except IntegrityError:
        pass
    return Rendered(pdf, pages, False)


def render(session: Session, html: str) -> Rendered:
    """The PDF of `html`, from the cache when this very HTML was rendered before."""
    key = cache_key(html)
    hit = cached(session, key)
    if hit is not None:
        return hit
    return store(session, key, pdfs.render_pdf(html))
