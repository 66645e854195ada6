"""The kinds of work an application runs: each kind names its handler, registered explicitly
from the application factory (`coordinator/web.py` calls each domain's `register`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy.orm import Session

from coordinator.work.context import ItemInfo, WorkContext

EXTENSION_KEY = "coordinator.work"

Handler = Callable[[WorkContext], dict | None]
EndHook = Callable[[Session, ItemInfo], None]


class UnknownKind(LookupError):
    """No handler is registered for this kind of work."""


@dataclass(frozen=True)
class Kind:
    """A kind of work. `handler(ctx)` does the work and returns its result (JSON) or None.
    `on_end(session, info)` is called, in the transaction that ends the item, when the item
    ends without its handler's work being committed (cancelled, failed, or its attempts spent
    by interruptions): the domain record (an import report, a print batch) then says so.
    `max_attempts`: claims allowed before an item that keeps being interrupted fails (None:
    the `WORK_MAX_ATTEMPTS` setting)."""

    name: str
    handler: Handler
    on_end: EndHook | None = None
    max_attempts: int | None = None


class Registry:
    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}

    def register(self, kind: Kind) -> None:
        """Add a kind; the same kind again changes nothing, another under a taken name is
        refused."""
        if self._kinds.setdefault(kind.name, kind) != kind:
            raise ValueError(f"two kinds of work are named {kind.name!r}")

    def unregister(self, name: str) -> None:
        self._kinds.pop(name, None)

    def get(self, name: str) -> Kind:
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownKind(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._kinds

    def names(self) -> list[str]:
        return sorted(self._kinds)


def init_app(app: Flask) -> Registry:
    """The application's registry (created empty the first time); the domains then register
    their kinds."""
    return app.extensions.setdefault(EXTENSION_KEY, Registry())


def of(app: Flask | None = None) -> Registry:
    """The registry of `app` (default: the current application)."""
    return (app or current_app).extensions[EXTENSION_KEY]
