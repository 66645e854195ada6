"""Fixtures of the background-work tests: kinds of work registered for one test."""

from __future__ import annotations

import pytest

from coordinator.printing.models import PrintedDocument
from coordinator.work import registry as registries
from coordinator.work.context import WorkContext
from coordinator.work.registry import Kind


@pytest.fixture
def kinds(app):
    """`kinds(name, handler, on_end=None, max_attempts=None)` registers a kind for this test."""
    registry = registries.of(app)
    added: list[str] = []

    def add(name: str, handler, on_end=None, max_attempts=None) -> str:
        registry.register(Kind(name, handler, on_end=on_end, max_attempts=max_attempts))
        added.append(name)
        return name

    yield add
    for name in added:
        registry.unregister(name)


def write_document(ctx: WorkContext, key: str) -> None:
    """A handler's visible effect: one row (a cached document), in the handler's session."""
    ctx.session.add(PrintedDocument(key=key.ljust(64, "-"), pdf=b"%PDF", pages=1))
    ctx.session.flush()
